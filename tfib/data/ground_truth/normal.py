"""Multivariate normal tasks with dense or sparse correlation between X and Y.

Correlated Gaussians are the known-answer task of Poole et al. (2019), "On variational
bounds of mutual information" (ICML), and the "multinormal" family of Czyż et al. (2023),
"Beyond normal: on the evaluation of mutual information estimators" (NeurIPS).

Mathematical details
--------------------
(X, Y) ~ N(0, Σ) with X in R^m, Y in R^n and Σ = [[Σ_X, Σ_XY], [Σ_XYᵀ, Σ_Y]]:

    I(X; Y) = h(X) + h(Y) − h(X, Y) = ½ log( det Σ_X · det Σ_Y / det Σ )   nats,

since h(N(0, S)) = ½ log det(2πe S). With Σ_X = I_m and Σ_Y = I_n this is
I = −½ Σ_i log(1 − s_i²), the s_i being the singular values of Σ_XY (the canonical
correlations), and Σ is positive definite iff every s_i < 1.

* Dense: Σ_XY = ρ 1_m 1_nᵀ (every X_i correlated with every Y_j), Σ_X = I, Σ_Y = I.
  Σ_XY has the single singular value s = |ρ| √(mn), so

      I = −½ log(1 − ρ² m n),  positive definite iff ρ² m n < 1,

  and a target I is reached with ρ = √((1 − e^{−2I}) / (mn)). (Czyż et al.'s dense task
  also sets the correlations within X and within Y to ρ; here those are 0.)
* Sparse: only the first k pairs (X_i, Y_i) are correlated, each with correlation ρ:

      I = −(k/2) log(1 − ρ²),  ρ = √(1 − e^{−2I/k}).

`normal` samples L z, z ~ N(0, I_{m+n}), L the Cholesky factor of Σ. The target-MI tasks
sample the canonical form instead, with residual scale c = e^{−I/k} and s = √(1 − c²)
(k = 1 for dense): X ~ N(0, I_m), ε ~ N(0, I_n) and

    sparse: Y_i = s X_i + c ε_i (i < k),  Y_i = ε_i (i ≥ k);
    dense:  Y = ε + v (s uᵀX + (c − 1) vᵀε),  u = 1_m/√m, v = 1_n/√n,

which has the covariance above (the component vᵀY = s uᵀX + c vᵀε, the rest of Y is ε's).
As I(X; Y) = −k log c, the declared value holds to float64 rounding even at 10 nats, where
a Σ built from the rounded ρ would be off by about 1e-7. At most 12 nats per correlated
pair (dense: in all) are accepted: beyond that c is too small for float32 samples.
"""
import math

import numpy as np

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.task import Task

# Largest I(X_i; Y_i) of one correlated pair that the target-MI constructors accept.
MAX_MI_PER_PAIR = 12.0

__all__ = ["MAX_MI_PER_PAIR", "dense_covariance", "gaussian_mi", "normal", "normal_dense",
           "normal_sparse", "sparse_covariance"]


def gaussian_mi(covariance: np.ndarray, dim_x: int) -> float:
  """½ log(det Σ_X det Σ_Y / det Σ) in nats; X is the first ``dim_x`` coordinates."""
  covariance = _check_covariance(covariance, "covariance")
  dim_x = _checks.bounded_int("dim_x", dim_x, lower=1, upper=len(covariance) - 1)
  return max(0.0, 0.5 * (_logdet(covariance[:dim_x, :dim_x]) +
                         _logdet(covariance[dim_x:, dim_x:]) - _logdet(covariance)))


def dense_covariance(dim_x: int, dim_y: int, rho: float) -> np.ndarray:
  """The joint correlation [m + n, m + n]: Σ_X = I, Σ_Y = I, every Cov(X_i, Y_j) = ρ."""
  dim_x = _checks.positive_int("dim_x", dim_x)
  dim_y = _checks.positive_int("dim_y", dim_y)
  rho = _checks.finite_float("rho", rho)
  if rho * rho * dim_x * dim_y >= 1.0:
    raise ValueError(
        f"A dense correlation rho={rho} between {dim_x} and {dim_y} dimensions is not "
        f"positive definite: it needs |rho| < 1/sqrt(dim_x * dim_y) = "
        f"{1.0 / math.sqrt(dim_x * dim_y):.6g}.")
  covariance = np.eye(dim_x + dim_y)
  covariance[:dim_x, dim_x:] = rho
  covariance[dim_x:, :dim_x] = rho
  return covariance


def sparse_covariance(dim_x: int, dim_y: int, rho: float, k: int) -> np.ndarray:
  """The joint correlation [m + n, m + n]: Corr(X_i, Y_i) = ρ for i < k, all else 0."""
  dim_x = _checks.positive_int("dim_x", dim_x)
  dim_y = _checks.positive_int("dim_y", dim_y)
  k = _checks.bounded_int("k", k, lower=0, upper=min(dim_x, dim_y))
  rho = _checks.finite_float("rho", rho)
  if not -1.0 < rho < 1.0:
    raise ValueError(f"rho must lie in (-1, 1) for a positive definite covariance, "
                     f"got {rho}.")
  covariance = np.eye(dim_x + dim_y)
  pairs = np.arange(k)
  covariance[pairs, dim_x + pairs] = rho
  covariance[dim_x + pairs, pairs] = rho
  return covariance


def normal(covariance: np.ndarray, dim_x: int, name: str) -> Task:
  """(X, Y) ~ N(0, ``covariance``), X the first ``dim_x`` coordinates."""
  mi_nats = gaussian_mi(covariance, dim_x)
  factor = cholesky(covariance, "covariance")

  def sampler(rng: np.random.Generator, num_samples: int):
    joint = rng.standard_normal((num_samples, len(factor))) @ factor.T
    return joint[:, :dim_x], joint[:, dim_x:]

  return Task(name=name, dim_x=dim_x, dim_y=len(factor) - dim_x, mi_nats=mi_nats,
              sampler=sampler)


def normal_dense(dim_x: int, dim_y: int, mi_nats: float) -> Task:
  """Dense cross-correlation ρ = √((1 − e^{−2I}) / (mn)), so that I(X; Y) = ``mi_nats``."""
  dim_x = _checks.positive_int("dim_x", dim_x)
  dim_y = _checks.positive_int("dim_y", dim_y)
  residual, shared = _canonical(mi_nats, pairs=1)

  def sampler(rng: np.random.Generator, num_samples: int):
    x = rng.standard_normal((num_samples, dim_x))
    noise = rng.standard_normal((num_samples, dim_y))
    along_x = x.sum(axis=1) / math.sqrt(dim_x)        # uᵀX
    along_v = noise.sum(axis=1) / math.sqrt(dim_y)    # vᵀε
    extra = shared * along_x + (residual - 1.0) * along_v
    return x, noise + extra[:, None] / math.sqrt(dim_y)

  return Task(name=f"normal-dense-{dim_x}x{dim_y}-mi{mi_nats:g}", dim_x=dim_x, dim_y=dim_y,
              mi_nats=-math.log(residual), sampler=sampler)


def normal_sparse(dim: int, mi_nats: float, k: int) -> Task:
  """X, Y in R^dim with the first ``k`` pairs correlated so that I(X; Y) = ``mi_nats``."""
  dim = _checks.positive_int("dim", dim)
  k = _checks.bounded_int("k", k, lower=1, upper=dim)
  residual, shared = _canonical(mi_nats, pairs=k)

  def sampler(rng: np.random.Generator, num_samples: int):
    x = rng.standard_normal((num_samples, dim))
    y = rng.standard_normal((num_samples, dim))
    y[:, :k] = shared * x[:, :k] + residual * y[:, :k]
    return x, y

  return Task(name=f"normal-sparse-{dim}x{dim}-k{k}-mi{mi_nats:g}", dim_x=dim, dim_y=dim,
              mi_nats=-k * math.log(residual), sampler=sampler)


def cholesky(covariance: np.ndarray, argument: str) -> np.ndarray:
  """The lower Cholesky factor of a symmetric positive definite ``argument``."""
  return np.linalg.cholesky(_check_covariance(covariance, argument))


def _canonical(mi_nats: float, pairs: int):
  """(c, s): the residual scale c = e^{−I/pairs} and the shared part s = √(1 − c²)."""
  mi_nats = _checks.nonnegative_float("mi_nats", mi_nats)
  if mi_nats > MAX_MI_PER_PAIR * pairs:
    raise ValueError(f"mi_nats={mi_nats} puts more than {MAX_MI_PER_PAIR} nats on one "
                     f"correlated pair ({pairs} pair(s) here): float32 samples cannot resolve "
                     f"it.")
  return math.exp(-mi_nats / pairs), math.sqrt(-math.expm1(-2.0 * mi_nats / pairs))


def _check_covariance(covariance, argument: str) -> np.ndarray:
  covariance = np.asarray(covariance, dtype=np.float64)
  if covariance.ndim != 2 or covariance.shape[0] != covariance.shape[1] or len(covariance) < 2:
    raise ValueError(f"{argument} must be a square matrix of size >= 2, got shape "
                     f"{covariance.shape}.")
  if not np.all(np.isfinite(covariance)):
    raise ValueError(f"{argument} must be finite.")
  if not np.allclose(covariance, covariance.T, rtol=0.0, atol=1e-12):
    raise ValueError(f"{argument} must be symmetric.")
  try:
    np.linalg.cholesky(covariance)
  except np.linalg.LinAlgError:
    smallest = np.linalg.eigvalsh(covariance)[0]
    raise ValueError(f"{argument} is not positive definite (smallest eigenvalue "
                     f"{smallest:.3g}).") from None
  return covariance


def _logdet(matrix: np.ndarray) -> float:
  return float(np.linalg.slogdet(matrix)[1])
