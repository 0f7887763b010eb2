"""Every neural estimator against ground truth, with its defaults, as a new user runs it.

Correlated Gaussians, I = −(d/2)·log(1 − ρ²) = 1 nat, in d = 1, 5, 20, and a non-Gaussian
task of the suite (`tfib.data.ground_truth`: the half-cube map of a 3 × 3 normal, MI
unchanged by the map), N = 5,000 samples each (4,000 to train, 1,000 held out), every
setting the estimator's default.

Tolerances (nats), from the ground-truth suite's spread (bench/bench_mi_suite.py, the same
N and defaults):

* From above: +0.15. All five are lower bounds; on held-out data they exceed the truth only
  through the held-out sampling noise (a standard error of 0.02–0.05 nats at 1,000 rows)
  and the choice of the best window of evaluations; on the suite no estimator exceeded a
  true MI <= 2 nats by more than 0.1.
* From below: 0.25 (d <= 5, the half-cube), 0.4 (d = 20). The critic is fitted on 4,000
  samples, so the bound falls short by its approximation and generalisation gap, which
  grows with d (the same nat spread over d weakly correlated coordinates); 0.4 nats is the
  suite's "no task worse than" target.

A failed estimate (`MIEstimate.failed`) fails the test: on these tasks the information is
well above noise and every fit converges.
"""
import math

import numpy as np
import pytest

from tfib import estimators
from tfib.data import gaussian_tasks
from tfib.data import ground_truth

NEURAL = ["infonce", "mine", "mine_f", "nwj", "smile"]
TRUE_MI = 1.0
LOWER_TOLERANCE = {1: 0.25, 5: 0.25, 20: 0.4}
UPPER_TOLERANCE = 0.15
NUM_SAMPLES = 5000


def _check(name, x, z, truth, below):
  estimator = estimators.get(name)
  estimate = estimator.estimate_pair(x, z)
  assert not estimate.failed, estimate.flags
  assert estimate.extras["i_xt_weight_decay"] == estimator.fit_weight_decay(
      x.shape[1], z.shape[1], int(NUM_SAMPLES * 0.8))
  nats = estimate.i_xt * math.log(2)
  assert truth - below <= nats <= truth + UPPER_TOLERANCE, (nats, estimate.extras["i_xt_ci"])
  assert estimate.unit == "bits" and estimate.i_ty is None and estimate.h_y is None
  assert estimate.num_samples == NUM_SAMPLES
  low, high = estimate.extras["i_xt_ci"]
  assert low <= estimate.i_xt <= high
  return estimate


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("dim", [1, 5, 20])
def test_correlated_gaussians(name, dim):
  rho = gaussian_tasks.rho_for_mi(TRUE_MI, dim)
  assert gaussian_tasks.gaussian_mi(dim, rho) == pytest.approx(TRUE_MI)
  x, z = gaussian_tasks.correlated_gaussians(NUM_SAMPLES, dim, rho, seed=dim)
  _check(name, x, z, TRUE_MI, LOWER_TOLERANCE[dim])


@pytest.mark.parametrize("name", NEURAL)
def test_a_non_gaussian_task(name):
  task = ground_truth.get("half-cube-3x3")
  x, z = task.sample(NUM_SAMPLES, seed=7)
  _check(name, x, z, task.mi_nats, 0.25)


def test_the_default_weight_decay_follows_the_inputs_per_training_sample():
  infonce = estimators.get("infonce")
  assert infonce.fit_weight_decay(1, 1, 4000) == pytest.approx(0.12)
  assert infonce.fit_weight_decay(20, 20, 16000) == pytest.approx(0.6)
  assert infonce.fit_weight_decay(512, 10, 800) == 6.0  # At most 6, whatever the layer.
  assert estimators.get("smile").fit_weight_decay(25, 25, 4000) == pytest.approx(3.0)
  assert estimators.get("infonce", weight_decay=0.5).fit_weight_decay(20, 20, 100) == 0.5
  assert estimators.get("mine").fit_weight_decay(20, 20, 100) == 0.0
  assert estimators.get("mine_f").fit_weight_decay(20, 20, 100) == 0.0


def test_infonce_never_exceeds_log_batch():
  """At 10 nats of true MI, InfoNCE with B = 32 saturates at log 32 ≈ 3.47 nats; the same
  critic on all 800 held-out rows at once is bounded by log 800 ≈ 6.68 instead."""
  dim, batch = 5, 32
  x, z = gaussian_tasks.correlated_gaussians(
      4000, dim, gaussian_tasks.rho_for_mi(10.0, dim), seed=3)
  settings = dict(hidden_units="64x64", batch_size=batch, learning_rate=3e-3, max_steps=600,
                  eval_every=25, patience=100)
  fit = estimators.get("infonce", eval_batch_size=batch, **settings).fit_pair(x, z)
  ceiling = math.log(batch)
  assert fit.ceiling == pytest.approx(ceiling)
  assert all(value <= ceiling + 1e-5 for _, value in fit.history)
  assert all(value <= ceiling + 1e-5 for _, value, _ in fit.train_history)
  assert fit.estimate > ceiling - 0.3  # Close to its ceiling, far below the truth.
  wide = estimators.get("infonce", **settings).fit_pair(x, z)
  assert wide.batch_size == 800 and wide.ceiling == pytest.approx(math.log(800))
  assert all(value <= ceiling + 1e-5 for _, value, _ in wide.train_history)
  assert ceiling + 0.5 < wide.estimate <= math.log(800)


def test_xla_and_graph_steps_compute_the_same_thing():
  x, z = gaussian_tasks.correlated_gaussians(2000, 3, 0.5, seed=5)
  settings = dict(hidden_units="16x16", batch_size=64, max_steps=100, eval_every=50,
                  patience=5)
  compiled = estimators.get("mine", **settings).fit_pair(x, z)
  graph = estimators.get("mine", jit_compile=False, **settings).fit_pair(x, z)
  np.testing.assert_allclose([v for _, v in compiled.history], [v for _, v in graph.history],
                             atol=2e-3)


def test_steps_per_call_does_not_change_the_training():
  x, z = gaussian_tasks.correlated_gaussians(2000, 3, 0.5, seed=6)
  settings = dict(hidden_units="16x16", batch_size=64, max_steps=120, eval_every=40,
                  patience=5)
  one = estimators.get("mine", steps_per_call=1, **settings).fit_pair(x, z)
  seven = estimators.get("mine", steps_per_call=7, **settings).fit_pair(x, z)
  assert [s for s, _ in seven.history] == [40, 80, 120]
  np.testing.assert_allclose([v for _, v in one.history], [v for _, v in seven.history],
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose([row[1:] for row in one.train_history],
                             [row[1:] for row in seven.train_history], rtol=1e-5, atol=1e-6)
