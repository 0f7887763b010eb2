"""Robust standardisation of a critic's inputs, fitted on the training split, inside the critic.

Mutual information does not change under an invertible map of each variable, I(f(X); g(Z))
= I(X; Z) (Kraskov, Stögbauer & Grassberger 2004), so a critic may read any such image of
its inputs. `StandardizedCritic` reads, coordinate by coordinate,

    u = (v − m) / s,      v' = c · asinh(u / c),

before the critic it wraps: m the median and s = IQR / 1.349 of the training split (the
standard deviation for normal data, and finite for any distribution, Cauchy included), and
c = ``tail`` (default 4) the scale beyond which the tails are compressed logarithmically
(v' ≈ u for |u| ≪ c, v' ≈ c log(2|u|/c) for |u| ≫ c). Without it a critic's scores grow
with its inputs: a Cauchy outlier at u = 10⁴ gives scores in the thousands and bounds of
±1,000 nats; with it the same outlier reads as v' ≈ 34.

A coordinate with a zero IQR (a label that is mostly one class) uses its standard deviation,
and a constant coordinate the scale 1. For a side read through a Gaussian channel of
standard deviation σ (`tfib.estimators.mine`), the statistics are those of the noiseless
training samples with the channel's variance added, s² + σ², and the map is applied to the
noisy values, so the noise stays in the units of the activations and the critic reads an
invertible image of exactly the variable whose information is estimated.
"""
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tfib.estimators.critics import pair_scores, score_matrix

__all__ = ["IQR_PER_STD", "StandardizedCritic", "robust_scale"]

IQR_PER_STD = 1.3489795  # The interquartile range of N(0, 1).
DEFAULT_TAIL = 4.0


def robust_scale(samples: np.ndarray, noise_std: float = 0.0):
  """(median [D], scale [D]) of samples [N, D]: IQR / 1.349, or the std where the IQR is 0,
  or 1 for a constant coordinate; the channel's σ² added to the variance."""
  samples = np.asarray(samples, np.float64)
  low, center, high = np.percentile(samples, [25.0, 50.0, 75.0], axis=0)
  scale = (high - low) / IQR_PER_STD
  flat = ~(scale > 0)
  scale[flat] = samples[:, flat].std(axis=0)
  scale[~(scale > 0)] = 1.0
  return center.astype(np.float32), np.sqrt(scale ** 2 + noise_std ** 2).astype(np.float32)


@keras.saving.register_keras_serializable(package="tfib")
class StandardizedCritic(keras.Model):
  """f(x, z) = base(φ_x(x), φ_z(z)) with φ the map of the module docstring.

  Args:
    base: the critic that reads the standardised pairs (any critic of `critics`).
    x_center, x_scale, z_center, z_scale: m and s of each side, [Dx] and [Dz].
    tail: c, where the logarithmic compression of the tails starts (None: affine only).
  """

  def __init__(self, base, x_center, x_scale, z_center, z_scale,
               tail: Optional[float] = DEFAULT_TAIL, **kwargs):
    super().__init__(**kwargs)
    if isinstance(base, dict):
      base = keras.saving.deserialize_keras_object(base)
    self.base = base
    self.x_center, self.x_scale, self.z_center, self.z_scale = (
        np.asarray(v, np.float32).reshape(-1) for v in (x_center, x_scale, z_center, z_scale))
    for name, scale in (("x_scale", self.x_scale), ("z_scale", self.z_scale)):
      if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"{name} must be finite and > 0, got {scale.tolist()}.")
    if tail is not None and not tail > 0:
      raise ValueError(f"tail must be > 0 (or None for an affine map), got {tail}.")
    self.tail = None if tail is None else float(tail)

  def _map(self, values, center, scale):
    u = (values - center) / scale
    return u if self.tail is None else self.tail * tf.asinh(u / self.tail)

  def standardize(self, x, z):
    """(φ_x(x), φ_z(z)): what the base critic reads."""
    return (self._map(x, self.x_center, self.x_scale),
            self._map(z, self.z_center, self.z_scale))

  def call(self, inputs):
    return pair_scores(self.base, *self.standardize(*inputs))

  def score_matrix(self, x, z):
    """S[i, j] = base(φ_x(x_i), φ_z(z_j)), [B, B]."""
    return score_matrix(self.base, *self.standardize(x, z))

  def get_config(self):
    config = super().get_config()
    config.update(base=keras.saving.serialize_keras_object(self.base),
                  x_center=self.x_center.tolist(), x_scale=self.x_scale.tolist(),
                  z_center=self.z_center.tolist(), z_scale=self.z_scale.tolist(),
                  tail=self.tail)
    return config
