"""A class label Y and a Gaussian X given the label: discrete–continuous information.

The information between a representation and a label, I(T; Y) in the information plane,
is of this kind: Y is discrete, X continuous, so I(X; Y) ≤ H(Y) (Gao, Kannan, Oh &
Viswanath 2017, "Estimating mutual information for discrete-continuous mixtures",
NeurIPS, study estimators for such pairs).

Mathematical details
--------------------
Y takes the values 0, …, K − 1 with probabilities p_k, and X | Y = k ~ N(μ_k e_1, σ² I_d):
the class means lie on the first axis, μ_k = (k − (K − 1)/2) · s for a separation s, and
the other d − 1 coordinates are noise independent of Y. With X_1 the first coordinate,
a mixture of normals with density q(x) = Σ_k p_k φ((x − μ_k)/σ)/σ,

    I(X; Y) = I(X_1; Y) = h(X_1) − h(X_1 | Y) = −∫ q log q dx − ½ log(2πe σ²),

bounded by H(Y) = −Σ_k p_k log p_k, which it approaches as s/σ grows. The integral has no
closed form; it is computed by composite Simpson's rule on [min μ − 12σ, max μ + 12σ]
(the mass outside is below 1e-32) with 64 intervals per σ, with log q from a
log-sum-exp; for this smooth integrand that agrees with adaptive quadrature to about
1e-14 nats. For s ≥ 40σ the classes overlap with probability below 1e-80 and
I(X; Y) = H(Y) to float64 precision, which is used without integrating.

`Task.sample` returns y as a float32 column [N, 1] holding the class index 0, …, K − 1.
"""
import math
from typing import Optional, Sequence

import numpy as np

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.task import Task

__all__ = ["discrete_continuous"]

_TAIL_SIGMAS = 12.0
_INTERVALS_PER_SIGMA = 64
_DISJOINT_SIGMAS = 40.0
_GRID_CHUNK = 4096


def discrete_continuous(num_classes: int, separation: float = 2.0, sigma: float = 1.0,
                        probabilities: Optional[Sequence[float]] = None, dim: int = 1,
                        name: Optional[str] = None) -> Task:
  """K classes with means ``separation`` apart on the first of ``dim`` axes.

  ``probabilities`` (default uniform) are the class probabilities p_k, all > 0, summing to
  1. The default name is "discrete-continuous-{d}d-k{K}-sep{s}" (σ and p appended when not
  1 and uniform).
  """
  num_classes = _checks.bounded_int("num_classes", num_classes, lower=2)
  separation = _checks.positive_float("separation", separation)
  sigma = _checks.positive_float("sigma", sigma)
  dim = _checks.positive_int("dim", dim)
  if probabilities is None:
    probs = np.full(num_classes, 1.0 / num_classes)
  else:
    probs = _check_probabilities(probabilities, num_classes)
  means = (np.arange(num_classes) - 0.5 * (num_classes - 1)) * separation
  if name is None:
    name = f"discrete-continuous-{dim}d-k{num_classes}-sep{separation:g}"
    if sigma != 1.0:
      name += f"-sigma{sigma:g}"
    if probabilities is not None:
      name += "-p" + "-".join(f"{p:g}" for p in probs)
  entropy_y = float(-np.sum(probs * np.log(probs)))
  if separation >= _DISJOINT_SIGMAS * sigma:
    mi_nats = entropy_y
  else:
    conditional_entropy = 0.5 * math.log(2.0 * math.pi * math.e * sigma * sigma)
    mi_nats = _mixture_entropy(means, sigma, probs) - conditional_entropy
    # Keeps the quadrature's last digits inside the exact bounds 0 <= I <= H(Y).
    mi_nats = min(max(mi_nats, 0.0), entropy_y)

  def sampler(rng: np.random.Generator, num_samples: int):
    labels = rng.choice(num_classes, size=num_samples, p=probs)
    x = sigma * rng.standard_normal((num_samples, dim))
    x[:, 0] += means[labels]
    return x, labels[:, None]

  return Task(name=name, dim_x=dim, dim_y=1, mi_nats=mi_nats, sampler=sampler)


def _mixture_entropy(means: np.ndarray, sigma: float, probs: np.ndarray) -> float:
  """−∫ q log q of the 1-d mixture Σ_k p_k N(μ_k, σ²), by composite Simpson's rule."""
  low, high = means[0] - _TAIL_SIGMAS * sigma, means[-1] + _TAIL_SIGMAS * sigma
  intervals = 2 * math.ceil(0.5 * _INTERVALS_PER_SIGMA * (high - low) / sigma)
  grid = np.linspace(low, high, intervals + 1)
  integrand = np.empty_like(grid)
  for start in range(0, grid.size, _GRID_CHUNK):  # Bounds the [K, chunk] temporaries.
    points = grid[start:start + _GRID_CHUNK]
    log_terms = (np.log(probs)[:, None] - 0.5 * ((points - means[:, None]) / sigma) ** 2
                 - math.log(sigma * math.sqrt(2 * math.pi)))
    peak = log_terms.max(axis=0)
    log_q = peak + np.log(np.sum(np.exp(log_terms - peak), axis=0))
    integrand[start:start + _GRID_CHUNK] = -np.exp(log_q) * log_q
  weights = np.ones(intervals + 1)
  weights[1:-1:2] = 4.0
  weights[2:-1:2] = 2.0
  return float((grid[1] - grid[0]) / 3.0 * np.dot(weights, integrand))


def _check_probabilities(probabilities, num_classes: int) -> np.ndarray:
  probs = np.asarray(probabilities, dtype=np.float64)
  if probs.shape != (num_classes,):
    raise ValueError(f"probabilities must hold one value per class ({num_classes}), got "
                     f"shape {probs.shape}.")
  if not np.all(np.isfinite(probs)) or np.any(probs <= 0.0):
    raise ValueError(f"probabilities must be finite and > 0, got {probs.tolist()}.")
  if abs(probs.sum() - 1.0) > 1e-9:
    raise ValueError(f"probabilities must sum to 1, got sum {probs.sum():.12g}.")
  return probs / probs.sum()
