"""The 90% interval of the default estimator holds the true MI on the suite's fast tasks.

`tfib.estimators.confidence.interval` widens the bootstrap of the held-out rows upwards by
an allowance chosen on the whole ground-truth suite with seed 0 (where it covered 37 of 45
tasks with the critic of the time, and covers 39 with today's default). Here it is checked
on other seeds (1 and 2, data and training both) on eight tasks of 1 to 6 dimensions from
five families: 16 intervals, of which at least 13 (81%) must
hold the truth — the target "contains the true MI on >= 80% of the tasks", with the
allowance's calibration not reused. The lower ends must also not be loose: each interval
is narrower than 0.6 nats (a uselessly wide interval would cover trivially).
"""
import math

from tfib import estimators
from tfib.data import ground_truth
from tfib.estimators import mine

TASKS = ["normal-dense-1x1-mi0.5", "normal-sparse-2x2-k2-mi1", "half-cube-3x3",
         "student-t-2x2-dof2", "discrete-continuous-1d-k4-sep2", "noisy-channel-2d-sigma1",
         "additive-uniform-eps0.75", "wiggly-3x3"]
SEEDS = (1, 2)


def test_the_interval_covers_the_truth_on_fast_tasks():
  covered, rows = 0, []
  for seed in SEEDS:
    for name in TASKS:
      task = ground_truth.get(name)
      x, z = task.sample(5000, seed)
      result = estimators.get(mine.DEFAULT_ESTIMATOR, seed=seed).estimate_pair(x, z)
      low, high = (v * math.log(2) for v in result.extras["i_xt_ci"])
      hit = low <= task.mi_nats <= high
      covered += hit
      rows.append((name, seed, round(task.mi_nats, 3), round(low, 3), round(high, 3), hit))
      assert high - low < 0.6, rows[-1]
  assert covered >= 13, rows
