"""Ground-truth mutual-information tasks: correlated Gaussians and the MI staircase.

These are the known-answer tasks used to validate the variational estimators of
`tfib.estimators` (MINE, InfoNCE, NWJ, SMILE), following Belghazi et al. (2018), Poole et
al. (2019) and Song & Ermon (2020).

Mathematical details
--------------------
X ~ N(0, I_d) and Z = ρ X + sqrt(1 − ρ²) E with E ~ N(0, I_d) independent of X. Each pair
of coordinates (X_k, Z_k) is a bivariate standard normal with correlation ρ and the pairs
are independent, so

    I(X; Z) = Σ_k I(X_k; Z_k) = −(d / 2) · log(1 − ρ²)   nats.

Inverting for a target information I (nats): ρ = sqrt(1 − exp(−2 I / d)).

The staircase (Poole et al. 2019, "On variational bounds of mutual information"; Song &
Ermon 2020, "Understanding the limitations of variational mutual information estimators")
trains one critic while the true information steps through 2, 4, 6, 8, 10 nats in d = 20,
a fixed number of training steps per level, with fresh samples at every step.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "correlated_gaussians",
    "gaussian_mi",
    "rho_for_mi",
    "staircase_mi",
]


def gaussian_mi(dim: int, rho: float) -> float:
  """I(X;Z) in nats of the correlated-Gaussian task: −(d/2)·log(1 − ρ²)."""
  _check_dim_rho(dim, rho)
  return float(-0.5 * dim * np.log1p(-rho * rho))


def rho_for_mi(mi_nats: float, dim: int) -> float:
  """The per-dimension correlation ρ that gives I(X;Z) = ``mi_nats`` in ``dim`` dims."""
  if dim < 1:
    raise ValueError(f"dim must be >= 1, got {dim}.")
  if not np.isfinite(mi_nats) or mi_nats < 0:
    raise ValueError(f"mi_nats must be finite and >= 0, got {mi_nats}.")
  return float(np.sqrt(-np.expm1(-2.0 * mi_nats / dim)))


def correlated_gaussians(num_samples: int, dim: int, rho: float,
                         seed: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
  """Samples (x, z), each [num_samples, dim] float32, with per-dimension correlation ρ.

  The true information is `gaussian_mi(dim, rho)` nats; ρ = 0 gives independent x and z.
  """
  _check_dim_rho(dim, rho)
  if num_samples < 1:
    raise ValueError(f"num_samples must be >= 1, got {num_samples}.")
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((num_samples, dim))
  noise = rng.standard_normal((num_samples, dim))
  z = rho * x + np.sqrt(1.0 - rho * rho) * noise
  return x.astype(np.float32), z.astype(np.float32)


def staircase_mi(steps_per_level: int,
                 levels: Sequence[float] = (2.0, 4.0, 6.0, 8.0, 10.0)) -> np.ndarray:
  """The true MI (nats) at each training step of the staircase: [len(levels) * steps]."""
  if steps_per_level < 1:
    raise ValueError(f"steps_per_level must be >= 1, got {steps_per_level}.")
  return np.repeat(np.asarray(levels, dtype=np.float64), steps_per_level)


def _check_dim_rho(dim: int, rho: float):
  if dim < 1:
    raise ValueError(f"dim must be >= 1, got {dim}.")
  if not -1.0 < rho < 1.0:
    raise ValueError(f"rho must lie in (-1, 1) for finite information, got {rho}.")
