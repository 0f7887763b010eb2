"""Whether a critic's fit is an estimate: divergence, convergence, significance, ceilings.

A variational bound is a number whatever the critic did, so a fit is judged before its
number is reported (`tfib.estimators.mine`). Each check that fails adds a flag
``<quantity>_<check>`` with the reason, in bits; all but the caveats mark the estimate
failed (`MIEstimate.failed`: the number must not be used).

* ``diverged``: training produced a non-finite loss or bound (`CriticTrainer.fit` raises
  `TrainingDiverged`), or the held-out bound lies outside what a working critic gives:
  below −log B (B the batch size) — the score of a constant critic is 0, and a critic
  worse than it by log B ranks the true pair of a row below all its B marginal pairs on
  average, which is what scores blown up by a too-large step do — or above the bound's
  own ceiling (InfoNCE: log B). The number is then not reported (``None``).
* ``not_converged``: training reached ``max_steps`` while the held-out bound was still
  rising: the mean of the last ``num_last`` evaluations exceeds the mean of the
  ``num_last`` before them by more than 0.02 nats and by more than twice the standard
  error of that difference (from the evaluations' spread). The estimate is then biased
  low by an unknown amount; raise ``max_steps``.
* ``not_above_noise``: the lower end of the confidence interval is <= 0, so the held-out
  bound is not significantly above zero — the critic found no dependence it can show on
  held-out samples. (Independent variables end here; the information may still be > 0.)
* ``above_ceiling``: the estimate exceeds a ceiling of the quantity itself (log2 N for
  I(X; T_σ) over N inputs, H(Y) for I(T_σ; Y)): the critic overfits the held-out samples.
* ``near_bound_ceiling`` (a caveat, not a failure): an InfoNCE estimate within 10% of its
  ceiling log B (B the held-out batch) saturates; the information may be far above it
  (Poole et al. 2019).
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ["CAVEATS", "RISE_TOLERANCE_NATS", "check", "failed", "rising"]

_LN2 = math.log(2.0)
RISE_TOLERANCE_NATS = 0.02
CAVEATS = ("near_bound_ceiling",)


def rising(values: Sequence[float], window: int) -> Optional[Tuple[float, float]]:
  """(rise, standard error) when the last ``window`` values average more than the
  ``window`` before them by > RISE_TOLERANCE_NATS and > 2 standard errors; else None."""
  values = np.asarray(values, np.float64)
  if window < 2 or values.size < 2 * window:
    return None
  last, previous = values[-window:], values[-2 * window:-window]
  rise = float(last.mean() - previous.mean())
  error = float(math.sqrt((last.var(ddof=1) + previous.var(ddof=1)) / window))
  if rise > RISE_TOLERANCE_NATS and rise > 2.0 * error:
    return rise, error
  return None


def check(quantity: str, fit, ci_nats: Tuple[float, float],
          ceiling_nats: Optional[float] = None, ceiling_name: str = "") -> Dict[str, str]:
  """The flags of a `CriticFit` of ``quantity`` ("i_xt", "i_ty") with confidence interval
  ``ci_nats``; ``ceiling_nats``: the quantity's own ceiling (``ceiling_name`` says which)."""
  flags = {}
  value, batch = fit.estimate, fit.batch_size
  floor, top = -math.log(batch), fit.ceiling
  if value < floor or (top is not None and value > top + 1e-3):
    where = (f"below -log B = {floor / _LN2:.4g} bits" if value < floor else
             f"above the bound's ceiling {top / _LN2:.4g} bits")
    flags[f"{quantity}_diverged"] = (
        f"the held-out {fit.bound} bound is {value / _LN2:.4g} bits, {where}: the critic's "
        "scores have blown up (learning rate too large?); no estimate")
    return flags
  if fit.stop_reason.startswith("reached max_steps"):
    rise = rising([v for _, v in fit.history], len(fit.last_values))
    if rise is not None:
      flags[f"{quantity}_not_converged"] = (
          f"stopped at max_steps={fit.steps} while the held-out bound was still rising "
          f"({rise[0] / _LN2:+.3g} bits over the last {2 * len(fit.last_values)} "
          f"evaluations, standard error {rise[1] / _LN2:.2g}): the estimate is biased "
          "low; raise max_steps")
  low, high = ci_nats
  if low <= 0:
    flags[f"{quantity}_not_above_noise"] = (
        f"the held-out bound {value / _LN2:.3g} bits is not significantly above zero "
        f"(confidence interval [{low / _LN2:.3g}, {high / _LN2:.3g}] bits): no dependence "
        "detected (the information may still be > 0)")
  if ceiling_nats is not None and value > ceiling_nats + 1e-9:
    flags[f"{quantity}_above_ceiling"] = (
        f"the held-out bound {value / _LN2:.4g} bits exceeds {ceiling_name} = "
        f"{ceiling_nats / _LN2:.4g} bits: the critic overfits the held-out samples")
  if top is not None and fit.bound == "infonce" and value > 0.9 * top:
    flags[f"{quantity}_near_bound_ceiling"] = (
        f"InfoNCE saturates near its ceiling log B = {top / _LN2:.4g} bits (B = "
        f"{fit.batch_size} held-out rows per batch): the information may be far above the "
        "estimate; more samples or a larger eval_batch_size raise B")
  return flags


def failed(flags: Dict[str, str]) -> bool:
  """Whether any flag marks the number as unusable (all but the caveats)."""
  return any(not name.endswith(CAVEATS) for name in flags)
