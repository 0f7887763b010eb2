"""Multivariate Student-t tasks: heavy tails, and information carried by the tails alone.

The Student-t family of Czyż et al. (2023), "Beyond normal: on the evaluation of mutual
information estimators" (NeurIPS). Even with an identity scale matrix X and Y are
dependent (they share the random scale below), and the dependence is hard for estimators
that assume Gaussian-like tails, most of all at low degrees of freedom ν.

Mathematical details
--------------------
(X, Y) = Z / √(W / ν) with Z ~ N(0, Σ) in R^{m+n} and W ~ χ²_ν independent: a
multivariate t with ν degrees of freedom and scale Σ. Its marginals are t with the same ν
and the diagonal blocks Σ_X, Σ_Y of Σ. The entropy of a d-dimensional t_ν(0, Σ) is

    h = ½ log det Σ + (d/2) log(νπ) + log Γ(ν/2) − log Γ((ν + d)/2)
        + (ν + d)/2 · [ψ((ν + d)/2) − ψ(ν/2)],

so I(X; Y) = h(X) + h(Y) − h(X, Y) is (the log(νπ) terms cancel)

    I(X; Y) = ½ log( det Σ_X det Σ_Y / det Σ ) + c(ν, m, n),

    c(ν, m, n) = log Γ(ν/2) + log Γ((ν+m+n)/2) − log Γ((ν+m)/2) − log Γ((ν+n)/2)
                 − (ν+m+n)/2 · ψ((ν+m+n)/2) + (ν+m)/2 · ψ((ν+m)/2)
                 + (ν+n)/2 · ψ((ν+n)/2) − ν/2 · ψ(ν/2),

with ψ the digamma function. The first term is the Gaussian information of the scale
matrix; c > 0 is the information in the shared scale, and c → 0 as ν → ∞ (the normal
limit). The entropy and this closed form are given by Arellano-Valle, Contreras-Reyes &
Genton (2013), "Shannon entropy and mutual information for multivariate skew-elliptical
distributions" (Scandinavian Journal of Statistics), and used by Czyż et al. (2023).
Covariances do not exist for ν ≤ 2, but the entropies and the information do for all
ν > 0.
"""
import math
from typing import Optional

import numpy as np

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.normal import cholesky, gaussian_mi
from tfib.data.ground_truth.special import digamma
from tfib.data.ground_truth.task import Task

__all__ = ["student_t", "student_t_correction"]


def student_t_correction(dof: float, dim_x: int, dim_y: int) -> float:
  """c(ν, m, n): the information of a t_ν pair beyond that of its scale matrix, nats."""
  dof = _checks.positive_float("dof", dof)
  dim_x = _checks.positive_int("dim_x", dim_x)
  dim_y = _checks.positive_int("dim_y", dim_y)

  # c = term(0) + term(m + n) − term(m) − term(n), term(d) = log Γ(a) − a ψ(a), a = (ν+d)/2.
  def term(dims: int) -> float:
    half = 0.5 * (dof + dims)
    return math.lgamma(half) - half * digamma(half)

  # The terms nearly cancel for large ν (absolute rounding error about ν · 1e-15): clamp the
  # rounding below the exact bound c > 0.
  return max(0.0, term(0) + term(dim_x + dim_y) - term(dim_x) - term(dim_y))


def student_t(dim_x: int, dim_y: int, dof: float, scale: Optional[np.ndarray] = None,
              name: Optional[str] = None) -> Task:
  """(X, Y) jointly t with ``dof`` degrees of freedom and ``scale`` (default identity).

  ``name`` defaults to "student-t-{m}x{n}-dof{ν}" for the identity scale and is required
  with any other ``scale``.
  """
  dim_x = _checks.positive_int("dim_x", dim_x)
  dim_y = _checks.positive_int("dim_y", dim_y)
  dof = _checks.positive_float("dof", dof)
  if scale is None:
    scale = np.eye(dim_x + dim_y)
    name = name or f"student-t-{dim_x}x{dim_y}-dof{dof:g}"
  elif name is None:
    raise ValueError("student_t needs a name when a scale matrix is given.")
  scale = np.asarray(scale, dtype=np.float64)
  if scale.shape != (dim_x + dim_y, dim_x + dim_y):
    raise ValueError(f"scale must have shape {(dim_x + dim_y, dim_x + dim_y)} for dim_x="
                     f"{dim_x} and dim_y={dim_y}, got {scale.shape}.")
  factor = cholesky(scale, "scale")
  mi_nats = gaussian_mi(scale, dim_x) + student_t_correction(dof, dim_x, dim_y)

  def sampler(rng: np.random.Generator, num_samples: int):
    gaussian = rng.standard_normal((num_samples, dim_x + dim_y)) @ factor.T
    chi_square = rng.chisquare(dof, size=num_samples)
    joint = gaussian / np.sqrt(chi_square / dof)[:, None]
    return joint[:, :dim_x], joint[:, dim_x:]

  return Task(name=name, dim_x=dim_x, dim_y=dim_y, mi_nats=mi_nats, sampler=sampler)
