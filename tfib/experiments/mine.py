"""What ``tfib-mine`` runs: one MINE-family estimate of I(X;Z) in a resumable run directory.

Layout of ``logdir``::

    manifest.json      the estimator and its parameters, the data (source and fingerprints)
    resume/            critic, optimizer, the bound's state, the fit's progress
    events.out.*       per evaluation: the held-out and training bounds (bits), the loss;
                       at the end the estimate (mi_estimate/, or mi_failed/ when it failed)
                       and its confidence interval (mi_ci/.../I_XZ_low, _high)
    results.json       the estimate with its interval and flags, written at the end

The fit commits its state every ``checkpoint_every`` evaluations; killed and run again, it
rolls back the curves written after the last commit and continues from there with the same
batches, shuffles and noise (`tfib.estimators.critic_training`), so the result equals that
of an uninterrupted run. A finished run returns its result again without training.
"""
import math
import os
import time
from typing import Dict, Optional

from tfib.infoplane.summaries import mi_tag
from tfib.runs import atomic, fingerprints, tensorboard
from tfib.runs.progress import Progress
from tfib.runs.run import Run
from tfib.runs.step_checkpoint import StepCheckpoint

__all__ = ["PROGRAM", "RESULTS", "estimate", "status"]

PROGRAM = "tfib-mine"
RESULTS = "results.json"
_LN2 = math.log(2.0)


def status(result) -> str:
  """"ok", "diverged" (no number) or "failed" (a number that must not be used)."""
  if any(name.endswith("_diverged") for name in result.flags):
    return "diverged"
  return "failed" if result.failed else "ok"


def estimate(estimator, x, z, logdir: str, source: str, true_mi_bits: Optional[float] = None,
             checkpoint_every: int = 5, run_options: Optional[Dict] = None,
             log=print) -> Dict:
  """Estimates I(X;Z) from paired samples with ``estimator`` (a `VariationalEstimator`).

  Returns the results record (also written to ``<logdir>/results.json``): the `MIEstimate`
  (``i_xt`` in bits, its interval in ``extras["i_xt_ci"]``, ``flags``, ``failed``) with a
  ``status`` (`status`) and, unless "ok", the ``reason``.
  """
  run = Run(logdir, PROGRAM, **(run_options or {}))
  params = estimator._record_params()  # pylint: disable=protected-access
  run.declare("estimator", {"name": estimator.name, "params": params})
  run.declare("data", {"source": source, "x": fingerprints.array_fingerprint(x),
                       "z": fingerprints.array_fingerprint(z)})
  label = estimator.name
  progress = {}

  def on_start(resumed):
    if resumed is None:
      tensorboard.write_hparams(run.writer(), dict(params, estimator=label, source=source,
                                             true_mi_bits=true_mi_bits))
    else:
      log(f"resuming the fit after step {resumed}")
    progress["bar"] = Progress(estimator.max_steps, "step", start=resumed or 0)

  def on_eval(step, metrics):
    points = [(f"mine/{label}/train_loss", metrics["train_loss"], step),
              (f"mine/{label}/train_bound_bits", metrics["train_bound"] / _LN2, step),
              (mi_tag(label, "pair", "I_XZ"), metrics["held_out_bound"] / _LN2, step)]
    if true_mi_bits is not None:
      points.append((mi_tag(label, "pair", "true_I_XZ"), true_mi_bits, step))
    tensorboard.write_scalars(run.writer(), points)
    progress["bar"].update(step, f"held-out {label} bound "
                           f"{metrics['held_out_bound'] / _LN2:.4f} bits (training "
                           f"{metrics['train_bound'] / _LN2:.4f})")

  started = time.perf_counter()
  result = estimator.estimate_pair(
      x, z, callback=on_eval,
      checkpoint=StepCheckpoint(run, every=checkpoint_every, on_start=on_start))
  if "bar" in progress:
    progress["bar"].close()
  record = dict(result.as_dict(), source=source, true_mi_bits=true_mi_bits,
                status=status(result), seconds=time.perf_counter() - started)
  if record["status"] != "ok":
    record["reason"] = "; ".join(result.flags.values())
  step = result.extras["i_xt_steps"]
  interval = result.extras.get("i_xt_ci")
  points = []
  if result.i_xt is not None:
    kind = "mi_failed" if result.failed else "mi_estimate"
    points.append((f"{kind}/{label}/pair/I_XZ", result.i_xt, step))
  if interval is not None:
    points += [(f"mi_ci/{label}/pair/I_XZ_low", interval[0], step),
               (f"mi_ci/{label}/pair/I_XZ_high", interval[1], step)]
  tensorboard.write_scalars(run.writer(), points)
  run.close()
  atomic.write_json(os.path.join(run.path, RESULTS), record)
  return record
