"""Fake quantization: values rounded onto 2^bits levels in the forward pass, gradients passed
straight through (quantization-aware training, as Lorenzen, Igel & Nielsen train their
networks).

Mathematical details
--------------------
For a range [lo, hi] and k = 2^bits − 1 steps of size s = (hi − lo) / k,

    q(x) = lo + s · round((clip(x, lo, hi) − lo) / s),

with the straight-through gradient: 1 inside [lo, hi], 0 outside. The forward value is the
level itself, bit for bit (the gradient is carried by a term that is exactly 0), so a layer
takes at most 2^bits distinct values. Unlike
`tf.quantization.fake_quant_with_min_max_vars` (used through TF-MOT in the paper), the
range is not nudged to contain 0: TensorFlow's nudging shifts a range such as a softmax
batch's [0.09, 0.11] to [0, 0.02] and maps every value onto one level. A layer whose
outputs pass through `q` takes at most 2^bits values per unit, so its mutual information
with the input is finite and exactly countable (`tfib.estimators.get("exact", bits=bits)`).

``bits=32`` means no quantization (float32 training), the paper's baseline.
"""
import keras
import tensorflow as tf

SUPPORTED_BITS = (4, 8, 32)
RANGES = ("batch", "moving_average")


def check_bits(bits: int) -> int:
  if bits not in SUPPORTED_BITS:
    raise ValueError(f"bits must be one of {SUPPORTED_BITS} (32 = no quantization), got {bits}.")
  return bits


def fake_quantize(x, low, high, bits: int):
  """x rounded onto 2^bits levels spanning [low, high], straight-through gradient."""
  if bits == 32:
    return x
  low = tf.stop_gradient(tf.cast(low, x.dtype))
  # An empty range (a constant tensor) still needs a valid grid.
  high = tf.maximum(tf.stop_gradient(tf.cast(high, x.dtype)), low + 1e-6)
  step = (high - low) / (2 ** bits - 1)
  clipped = tf.clip_by_value(x, low, high)
  levels = tf.stop_gradient(low + tf.round((clipped - low) / step) * step)
  # clipped − clipped is exactly 0 forward and carries the straight-through gradient; the
  # usual clipped + stop_gradient(levels − clipped) rounds off the grid by an ulp or so.
  return levels + (clipped - tf.stop_gradient(clipped))


@keras.saving.register_keras_serializable(package="tfib")
class FakeQuant(keras.layers.Layer):
  """Quantizes activations to 2^bits levels between their minimum and maximum.

  Args:
    bits: 4, 8 or 32 (32: identity).
    range_mode: where [lo, hi] comes from. "batch": the current batch's min and max (as
      Lorenzen et al. for bounded tanh units); "moving_average": an exponential moving
      average of batch min and max, updated in training and used frozen at inference (as
      TF-MOT's MovingAverageQuantizer, their choice for unbounded units); before the first
      training batch, the batch's own range.
    momentum: decay of the moving averages.
  """

  def __init__(self, bits: int = 8, range_mode: str = "moving_average", momentum: float = 0.99,
               **kwargs):
    super().__init__(**kwargs)
    if range_mode not in RANGES:
      raise ValueError(f"range_mode must be one of {RANGES}, got {range_mode!r}.")
    self.bits = check_bits(int(bits))
    self.range_mode = range_mode
    self.momentum = float(momentum)

  def build(self, input_shape):
    if self.range_mode == "moving_average":
      self.moving_min = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="moving_min")
      self.moving_max = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="moving_max")
      self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="initialized")

  def call(self, inputs, training=False):
    if self.bits == 32:
      return inputs
    batch_min, batch_max = tf.reduce_min(inputs), tf.reduce_max(inputs)
    if self.range_mode == "batch":
      return fake_quantize(inputs, batch_min, batch_max, self.bits)
    if training:
      # The first batch sets the averages; later batches move them.
      keep = self.momentum * self.initialized
      self.moving_min.assign(keep * self.moving_min + (1 - keep) * batch_min)
      self.moving_max.assign(keep * self.moving_max + (1 - keep) * batch_max)
      self.initialized.assign(1.0)
    # Before any training batch the averages are undefined: use the batch's range.
    low = self.initialized * self.moving_min + (1 - self.initialized) * batch_min
    high = self.initialized * self.moving_max + (1 - self.initialized) * batch_max
    return fake_quantize(inputs, low, high, self.bits)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    config = super().get_config()
    config.update(bits=self.bits, range_mode=self.range_mode, momentum=self.momentum)
    return config
