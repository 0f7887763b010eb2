"""What ``tfib-mine`` runs: one MINE-family estimate of I(X;Z) in a resumable run directory.

Layout of ``logdir``::

    manifest.json      the estimator and its parameters, the data (source and fingerprints)
    resume/            critic, optimizer, the bound's state, the fit's progress
    events.out.*       per evaluation: held-out bound (bits), training bound and loss (nats)
    results.json       the estimate (or the reason there is none), written at the end

The fit commits its state every ``checkpoint_every`` evaluations; killed and run again, it
rolls back the curves written after the last commit and continues from there with the same
batches, shuffles and noise (`tfib.estimators.critic_training`), so the result equals that
of an uninterrupted run. A finished run returns its result again without training.
"""
import math
import os
import time
from typing import Dict, Optional

from tfib.estimators.critic_training import TrainingDiverged
from tfib.infoplane.summaries import mi_tag
from tfib.runs import atomic, fingerprints, tensorboard
from tfib.runs.run import Run
from tfib.runs.step_checkpoint import StepCheckpoint

__all__ = ["PROGRAM", "RESULTS", "estimate"]

PROGRAM = "tfib-mine"
RESULTS = "results.json"
_LN2 = math.log(2.0)


def estimate(estimator, x, z, logdir: str, source: str, true_mi_nats: Optional[float] = None,
             checkpoint_every: int = 5, run_options: Optional[Dict] = None,
             log=print) -> Dict:
  """Estimates I(X;Z) from paired samples with ``estimator`` (a `VariationalEstimator`).

  Returns the results record (also written to ``<logdir>/results.json``): ``status`` "ok"
  with the estimate, or "diverged" with the reason and no number.
  """
  run = Run(logdir, PROGRAM, **(run_options or {}))
  params = estimator._record_params()  # pylint: disable=protected-access
  run.declare("estimator", {"name": estimator.name, "params": params})
  run.declare("data", {"source": source, "x": fingerprints.array_fingerprint(x),
                       "z": fingerprints.array_fingerprint(z)})
  label = estimator.name

  def on_start(resumed):
    if resumed is None:
      tensorboard.write_hparams(run.writer(), dict(params, estimator=label, source=source,
                                             true_mi_nats=true_mi_nats))
    else:
      log(f"resuming the fit after step {resumed}")

  def on_eval(step, metrics):
    points = [(f"mine/{label}/train_loss_nats", metrics["train_loss"], step),
              (f"mine/{label}/train_bound_nats", metrics["train_bound"], step),
              (mi_tag(label, "pair", "I_XZ"), metrics["held_out_bound"] / _LN2, step)]
    if true_mi_nats is not None:
      points.append((mi_tag(label, "pair", "true_I_XZ"), true_mi_nats / _LN2, step))
    tensorboard.write_scalars(run.writer(), points)
    log(f"step {step}: held-out {label} bound {metrics['held_out_bound'] / _LN2:.4f} bits "
        f"(training bound {metrics['train_bound'] / _LN2:.4f} bits)")

  record = {"source": source,
            "true_mi_bits": None if true_mi_nats is None else true_mi_nats / _LN2}
  started = time.perf_counter()
  try:
    result = estimator.estimate_pair(
        x, z, callback=on_eval,
        checkpoint=StepCheckpoint(run, every=checkpoint_every, on_start=on_start))
  except TrainingDiverged as error:
    record.update(status="diverged", reason=str(error), step=error.step)
  else:
    record.update(status="ok", seconds=time.perf_counter() - started, **result.as_dict())
  run.close()
  atomic.write_json(os.path.join(run.path, RESULTS), record)
  return record
