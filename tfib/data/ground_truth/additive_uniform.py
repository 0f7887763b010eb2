"""Additive uniform noise: Y = X + N with X and N uniform, a bounded, non-smooth channel.

The "additive noise" task of Czyż et al. (2023), "Beyond normal: on the evaluation of
mutual information estimators" (NeurIPS): one-dimensional, with a density of Y that has
kinks and bounded support.

Mathematical details
--------------------
X ~ U(0, 1) and N ~ U(−ε, ε) independent, Y = X + N. Since h(Y | X) = h(N) = log(2ε),

    I(X; Y) = h(Y) − log(2ε).

The density of Y is the overlap of [0, 1] with [y − ε, y + ε], divided by 2ε:

* ε ≤ ½: a trapezoid, rising linearly on [−ε, ε], equal to 1 on [ε, 1 − ε], falling on
  [1 − ε, 1 + ε]. Each ramp contributes −∫_0^{2ε} (t/2ε) log(t/2ε) dt = ε/2 to h(Y)
  and the plateau 0, so h(Y) = ε and

      I(X; Y) = ε − log(2ε).

* ε > ½: ramps of width 1 up to the plateau 1/(2ε) on [1 − ε, ε]. Each ramp contributes
  −∫_0^1 (t/2ε) log(t/2ε) dt = (1/2ε)(¼ + ½ log 2ε) and the plateau
  (2ε − 1)/(2ε) · log 2ε, so h(Y) = 1/(4ε) + log(2ε) and

      I(X; Y) = 1/(4ε).

Both give ½ nat at ε = ½; the information grows without bound as ε → 0 and falls to 0 as
ε → ∞.
"""
import math
from typing import Optional

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.task import Task

__all__ = ["additive_uniform", "additive_uniform_mi"]


def additive_uniform_mi(epsilon: float) -> float:
  """I(X; X + N) in nats for X ~ U(0, 1), N ~ U(−ε, ε)."""
  epsilon = _checks.positive_float("epsilon", epsilon)
  if epsilon <= 0.5:
    return epsilon - math.log(2.0 * epsilon)
  return 1.0 / (4.0 * epsilon)


def additive_uniform(epsilon: float, name: Optional[str] = None) -> Task:
  """x ~ U(0, 1) [N, 1] and y = x + U(−ε, ε) [N, 1]."""
  epsilon = _checks.positive_float("epsilon", epsilon)
  mi_nats = additive_uniform_mi(epsilon)

  def sampler(rng, num_samples: int):
    x = rng.uniform(0.0, 1.0, size=(num_samples, 1))
    return x, x + rng.uniform(-epsilon, epsilon, size=(num_samples, 1))

  return Task(name=name or f"additive-uniform-eps{epsilon:g}", dim_x=1, dim_y=1,
              mi_nats=mi_nats, sampler=sampler)
