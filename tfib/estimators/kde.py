"""KDE bounds on mutual information under added Gaussian noise (Kolchinsky & Tracey; Saxe et al.).

    estimator = tfib.estimators.get("kde", noise_variance=0.1)
    estimate = estimator.estimate(activations, labels)
    estimate.i_xt, estimate.i_ty                      # the upper bounds, in bits
    estimate.extras["i_xt_lower"], estimate.extras["i_ty_lower"]

Mathematical details
--------------------
The activations h_1, ..., h_N ∈ R^d of a layer for N inputs, with X uniform over the inputs,
are read through an additive Gaussian channel of variance σ² = ``noise_variance``,

    T = h(X) + ε,    ε ~ N(0, σ² I_d),

so T is an equal-weight mixture of N Gaussians p_i = N(h_i, σ² I_d), and
I(X;T) = H(T) − H(T|X) with H(T|X) = (d/2) ln(2πeσ²). Kolchinsky & Tracey (2017,
"Estimating mixture entropy with pairwise distances", Entropy 19:361) bound the entropy of
a mixture with weights c_i by a pairwise distance D between its components,

    Ĥ_D = H(T|X) − Σ_i c_i ln Σ_j c_j exp(−D(p_i ‖ p_j)),

an upper bound when D is the Kullback-Leibler divergence and a lower bound when D is a
Chernoff α-divergence, of which the Bhattacharyya distance (α = ½) is the tightest for
components of equal covariance. For p_i = N(h_i, σ² I):

    KL(p_i ‖ p_j) = ‖h_i − h_j‖² / (2σ²),    BD(p_i, p_j) = ‖h_i − h_j‖² / (8σ²).

H(T|X) cancels, and with c_i = 1/N, in bits:

    I_upper(X;T) = −(1/N) Σ_i log2 (1/N) Σ_j exp(−‖h_i − h_j‖² / (2σ²)),
    I_lower(X;T) = −(1/N) Σ_i log2 (1/N) Σ_j exp(−‖h_i − h_j‖² / (8σ²)),

0 ≤ I_lower ≤ I(X;T) ≤ I_upper ≤ log2 N. For the labels, I(T;Y) = H(T) − Σ_y p(y) H(T|Y=y),
where T given Y = y is the mixture of the N_y components of class y; applying the same
bound to both entropies, as Saxe et al. (2018, "On the information bottleneck theory of deep
learning", ICLR) do, leaves

    I_D(T;Y) = H(Y) − (1/N) Σ_i log2 [ Σ_j exp(−D_ij) / Σ_{j: y_j = y_i} exp(−D_ij) ],

with D_ij the KL ("upper") or BD ("lower") distance above and H(Y) the empirical label
entropy. As in Saxe et al. the registry reports the KL version of both quantities:
``i_xt`` = I_upper(X;T) and ``i_ty`` = I_KL(T;Y); ``extras`` holds both versions of each
(``i_xt_upper``, ``i_xt_lower``, ``i_ty_upper``, ``i_ty_lower``) and ``noise_variance``.

Caveats
-------
* The noise variance is part of the measurement. A deterministic layer with continuous X
  has infinite (or, over N distinct inputs, log2 N) I(X;T); the added noise makes it finite
  and sets the length scale σ at which the geometry of the activations is resolved. When
  the distances between activations are large against σ, I(X;T) sits at log2 N and
  I(T;Y) at H(Y); when small, both go to 0. The numbers are therefore only comparable at one
  σ², and they change with the scale of the activations alone: a ReLU layer whose
  activations grow during training gains I(X;T) without any change in what it separates.
  σ² = 0.1 (the default) is the value Saxe et al. use.
* I(T;Y) is estimated, not bounded: the difference of two upper (or two lower) entropy
  bounds bounds nothing. "Upper"/"lower" name the distance used. Each version is ≤ H(Y)
  (the in-class sum never exceeds the full one); it can fall slightly below 0 where the
  classes interleave at the scale σ, and I_BD(T;Y) ≤ I_KL(T;Y) is not guaranteed.
* The bounds are about the empirical distribution of the N given inputs, hence the ceiling
  log2 N. Repeated inputs are simply repeated mixture components, so ``inputs`` is not
  needed and is ignored.

Computation
-----------
All N² pairs enter, but the N × N matrix is never stored: `pairwise_logsumexp` streams
tiles of ``tile_size`` × ``tile_size`` distances through one XLA-compiled loop (float64
distances, float32 exponentials, float64 sums; its docstring gives the reasons). One pass
yields all four sums per row, since exp(−‖Δ‖²/(2σ²)) = exp(−‖Δ‖²/(8σ²))⁴. Memory is a few
copies of the activations plus O(N + tile_size²); time is O(N² d). bench/bench_kde.py
measures both: at N = 70,000, d = 1,024 (float32) the peak grew by about 1 GB, where one
N × N float64 matrix would take 39 GB, and the run took minutes on 2 cores.
"""
import math

import numpy as np

from tfib.estimators.base import (Estimator, as_finite_activations, as_labels,
                                  channel_description, label_entropy)
from tfib.estimators.pairwise_logsumexp import gaussian_log_sums
from tfib.estimators.registry import register
from tfib.estimators.result import MIEstimate

__all__ = ["KDE"]

_LN2 = math.log(2.0)
_LARGEST = 1e150  # Beyond, squared distances overflow float64.


@register("kde")
class KDE(Estimator):
  """Kolchinsky-Tracey upper and lower bounds on I(X;T) under added noise, and I(T;Y), in bits.

  See the module docstring for the formulas and caveats.

  Args:
    noise_variance: σ², the variance of the Gaussian noise added to each activation, in
      squared units of the activations (Saxe et al.: 0.1).
    tile_size: rows (and columns) of the distance tiles streamed through the XLA loop;
      memory beyond the activations grows as tile_size². On a 2-core CPU, 1,024 was the
      fastest of 512, 1,024 and 2,048 (N = 20,000, d = 256).
  """

  def __init__(self, noise_variance: float = 1e-1, tile_size: int = 1024):
    noise_variance = float(noise_variance)
    if not (noise_variance > 0 and math.isfinite(noise_variance)):
      raise ValueError(f"noise_variance must be positive and finite (without noise I(X;T) of "
                       f"a deterministic layer is infinite), got {noise_variance}.")
    if int(tile_size) != tile_size or tile_size < 1:
      raise ValueError(f"tile_size must be a positive integer, got {tile_size}.")
    self.noise_variance = noise_variance
    self.tile_size = int(tile_size)

  @property
  def params(self):
    return {"noise_variance": self.noise_variance, "tile_size": self.tile_size}

  def estimate(self, activations, labels=None, inputs=None) -> MIEstimate:
    del inputs  # Repeated inputs are repeated mixture components: not needed.
    values = as_finite_activations(activations)
    largest = float(np.max(np.abs(values)))
    if largest > _LARGEST:
      raise ValueError(f"Activations up to {largest:.3g} are too large for the "
                       f"KDE's squared distances (at most {_LARGEST:.0e}); rescale them.")
    num_samples = values.shape[0]
    labels = as_labels(labels, num_samples)
    # Kernels exp(−s‖h_i − h_j‖²): s = 1/(2σ²) for KL (upper), 1/(8σ²) for BD (lower).
    scales = (1.0 / (2.0 * self.noise_variance), 1.0 / (8.0 * self.noise_variance))
    log_sums = gaussian_log_sums(values, labels, scales, self.tile_size)  # Nats.

    # I(X;T) = ln N − mean_i ln Σ_j k(h_i, h_j); clipped into [0, log2 N] against rounding.
    i_xt = (math.log(num_samples) - log_sums[:, :, 0].mean(axis=0)) / _LN2
    i_xt = np.clip(i_xt, 0.0, math.log2(num_samples))
    extras = {"i_xt_upper": float(i_xt[0]), "i_xt_lower": float(i_xt[1]),
              "i_ty_upper": None, "i_ty_lower": None,
              "noise_variance": self.noise_variance,
              "channel": channel_description(math.sqrt(self.noise_variance))}
    h_y = i_ty = None
    flags = {}
    if labels is not None:
      h_y = label_entropy(labels)
      # I(T;Y) = H(Y) − mean_i ln(Σ_j k / Σ_{j in class} k).
      i_ty = h_y - (log_sums[:, :, 0] - log_sums[:, :, 1]).mean(axis=0) / _LN2
      extras["i_ty_upper"], extras["i_ty_lower"] = float(i_ty[0]), float(i_ty[1])
      if i_ty[0] < 0:
        flags["i_ty_below_zero"] = (
            f"the KL estimate of I(T;Y) is {i_ty[0]:.3g} bits < 0: the classes interleave at "
            f"the noise scale sigma = {math.sqrt(self.noise_variance):.3g}; read it as 0 within "
            "the estimator's error")
    return MIEstimate(
        estimator=self.name,
        params=self.params,
        i_xt=extras["i_xt_upper"],
        i_ty=extras["i_ty_upper"],
        num_samples=num_samples,
        h_y=h_y,
        extras=extras,
        flags=flags,
    )
