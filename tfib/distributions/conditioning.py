"""Brings a conditioning input h to every resolution of the PixelCNN++ hierarchy.

Mathematical details
--------------------
van den Oord et al. (2016, "Conditional image generation with PixelCNN decoders", sec. 2.3)
condition the gated activation on h in two ways:

* global: tanh(W_f * x + V_f^T h) . sigmoid(W_g * x + V_g^T h), h a vector, the same term at
  every location. Here h [B, D] becomes a [B, 1, 1, D] map at every level, and each gated
  block applies its own V (a 1x1 convolution), as the original PixelCNN++ code does.
* location-dependent: h is a spatial map and s = m(h) a learned network brings it to the
  image's resolution; each block adds V * s. Here h is [B, h, w, D] of any spatial size:
  a 3x3 convolution + ELU at h's own resolution, then for each level l of the hierarchy
  (H / 2^l x W / 2^l) a fixed linear resampling R_l (separable, triangle kernel widened by
  the scale factor when shrinking, so downsampling averages instead of aliasing; exact
  copy when sizes match) and another 3x3 convolution + ELU.

The conditioning input is not part of the modelled image, so none of this is causal: the
maps are computed once per h and reused by every block, every band and every sampling step.
"""
import keras
import numpy as np
import tensorflow as tf

__all__ = ["ConditioningNetwork", "resampling_matrix"]


def resampling_matrix(in_size: int, out_size: int) -> np.ndarray:
  """[out_size, in_size] linear resampling with half-pixel centres and antialiasing.

  Rows sum to one. Upsampling is linear interpolation; downsampling by an integer factor
  f is a triangle filter of half-width f (a smooth average); equal sizes give the identity.
  """
  if in_size == out_size:
    return np.eye(out_size, dtype=np.float32)
  scale = in_size / out_size
  width = max(1.0, scale)
  centres = (np.arange(out_size) + 0.5) * scale - 0.5
  taps = np.arange(in_size)
  weights = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centres[:, None]) / width)
  # Outside the input (the border), clamp: the nearest input takes the weight.
  empty = weights.sum(axis=1) == 0
  weights[empty, np.clip(np.round(centres[empty]).astype(int), 0, in_size - 1)] = 1.0
  return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


@keras.saving.register_keras_serializable(package="tfib")
class ConditioningNetwork(keras.layers.Layer):
  """Maps h (a [D] vector or a [h, w, D] map per example) to one map per level.

  ``conditional_shape``: h's shape without the batch axis. ``level_sizes``: the (height,
  width) of each level, finest first. ``filters``: channels of the maps made from a spatial
  h (a vector keeps its D channels). ``call(h)`` returns a list of [B, H_l, W_l, filters]
  maps (spatial h) or of [B, 1, 1, D] (vector h).
  """

  def __init__(self, conditional_shape, level_sizes, filters=32, **kwargs):
    super().__init__(**kwargs)
    self.conditional_shape = tuple(int(d) for d in conditional_shape)
    self.level_sizes = [tuple(int(d) for d in size) for size in level_sizes]
    self.filters = int(filters)
    if len(self.conditional_shape) not in (1, 3):
      raise ValueError("conditional_shape must be [D] (a global vector) or [h, w, D] (a "
                       f"feature map), got {self.conditional_shape}.")
    self.spatial = len(self.conditional_shape) == 3
    if self.spatial:
      self.stem = keras.layers.Conv2D(self.filters, 3, padding="same", activation="elu",
                                      name="stem")
      self.level_convs = [
          keras.layers.Conv2D(self.filters, 3, padding="same", activation="elu",
                              name=f"level{l}") for l in range(len(self.level_sizes))]
      h, w, _ = self.conditional_shape
      self._resample = [(resampling_matrix(h, lh), resampling_matrix(w, lw))
                        for lh, lw in self.level_sizes]

  @property
  def output_channels(self) -> int:
    return self.filters if self.spatial else self.conditional_shape[0]

  def build(self, input_shape=None):
    if self.spatial:
      self.stem.build((None, *self.conditional_shape))
      for conv in self.level_convs:
        conv.build((None, None, None, self.filters))
    self.built = True

  def call(self, h):
    if not self.spatial:
      return [h[:, None, None, :]] * len(self.level_sizes)
    s = self.stem.call(h)
    maps = []
    for (rows, cols), conv in zip(self._resample, self.level_convs):
      r = tf.einsum("ih,bhwc->biwc", tf.constant(rows, s.dtype), s)
      r = tf.einsum("jw,biwc->bijc", tf.constant(cols, s.dtype), r)
      maps.append(conv.call(r))
    return maps

  def get_config(self):
    config = super().get_config()
    config.update(conditional_shape=self.conditional_shape, level_sizes=self.level_sizes,
                  filters=self.filters)
    return config
