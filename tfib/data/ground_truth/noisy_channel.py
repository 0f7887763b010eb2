"""A layer-like Gaussian channel: a representation T and its noisy copy T + σε.

Noise added to a layer's activations T makes the information it carries finite; a
noisy-channel estimator measures I(T; T + σε), as in the layer-wise validation of Elad et
al. (2019), "Direct validation of the information bottleneck principle for deep nets"
(ICCV Workshops). This task is the Gaussian case, in which the answer is exact.

Mathematical details
--------------------
T ~ N(0, Σ) in R^d with Σ = Q diag(λ_1, …, λ_d) Qᵀ (Q = I, or a random rotation drawn
once from ``rotation_seed``), ε ~ N(0, I_d) independent of T, and T_σ = T + σ ε. This is
d parallel Gaussian channels in the eigenbasis of Σ (Cover & Thomas, Elements of
Information Theory, §9.4), and

    I(T; T_σ) = h(T_σ) − h(σε) = ½ log det(I + Σ/σ²) = ½ Σ_i log(1 + λ_i / σ²)   nats,

independent of Q. Eigenvalues λ_i = 0 (directions T does not use) carry no information.
The rotation is Q of the QR decomposition of a standard normal d × d matrix, with the signs
of its columns fixed by R's diagonal, so Q is uniform over the orthogonal group.
"""
from typing import Optional, Sequence

import numpy as np

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.task import Task

__all__ = ["noisy_channel"]


def noisy_channel(eigenvalues: Sequence[float], sigma: float,
                  rotation_seed: Optional[int] = None, name: Optional[str] = None) -> Task:
  """(t, t + σε): t ~ N(0, Q diag(eigenvalues) Qᵀ), Q = I or random from rotation_seed.

  The default name is "noisy-channel-{d}d-sigma{σ}", with "-rotated{seed}" appended when
  a rotation is drawn.
  """
  eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
  if eigenvalues.ndim != 1 or eigenvalues.size == 0:
    raise ValueError(f"eigenvalues must be a non-empty 1-d sequence, got shape "
                     f"{eigenvalues.shape}.")
  if not np.all(np.isfinite(eigenvalues)) or np.any(eigenvalues < 0.0):
    raise ValueError(f"eigenvalues must be finite and >= 0, got {eigenvalues.tolist()}.")
  sigma = _checks.positive_float("sigma", sigma)
  dim = eigenvalues.size
  basis = np.eye(dim)
  if rotation_seed is not None:
    rotation_seed = _checks.bounded_int("rotation_seed", rotation_seed, lower=0)
    q, r = np.linalg.qr(np.random.default_rng(rotation_seed).standard_normal((dim, dim)))
    basis = q * np.sign(np.diag(r))
  factor = basis * np.sqrt(eigenvalues)
  mi_nats = float(0.5 * np.sum(np.log1p(eigenvalues / sigma ** 2)))
  if name is None:
    name = f"noisy-channel-{dim}d-sigma{sigma:g}"
    if rotation_seed is not None:
      name += f"-rotated{rotation_seed}"

  def sampler(rng: np.random.Generator, num_samples: int):
    t = rng.standard_normal((num_samples, dim)) @ factor.T
    return t, t + sigma * rng.standard_normal((num_samples, dim))

  return Task(name=name, dim_x=dim, dim_y=dim, mi_nats=mi_nats, sampler=sampler)
