"""Causal ("shifted") convolutions of PixelCNN++, as Keras 3 layers with optional weight norm.

Mathematical details
--------------------
PixelCNN++ keeps two streams (Salimans et al. 2017, after van den Oord et al. 2016): a
"down" stream u whose value at row r depends only on rows < r, and a "down-right" stream ul
whose value at (r, c) depends only on rows < r and on row r at columns < c. Instead of
masking a centred kernel, the input is padded on one side and convolved 'VALID':

* `DownShiftedConv2D`, kernel [kh, kw] (default [2, 3]): kh-1 rows above, (kw-1)/2 columns on
  each side. Output row r sees input rows r-kh+1 .. r.
* `DownRightShiftedConv2D`, kernel [kh, kw] (default [2, 2]): kh-1 rows above, kw-1 columns
  on the left. Output (r, c) sees rows r-kh+1 .. r, columns c-kw+1 .. c.
* The transposed versions (stride 2, kernel height 2) upsample: fine rows 2i and 2i+1 come
  from coarse row i alone, and are cropped so that the causal alignment is kept.
* `down_shift` / `right_shift` move a stream one row down / one column right, which turns
  "rows <= r" into "rows < r" (and likewise for columns).

Every layer's output row depends on its input rows at or above it only. So the network can
be evaluated on a horizontal band of rows, given the last row of each convolution's input
from the band above (``top=``) instead of the zero padding; the band sampler relies on this.

Weight normalisation (Salimans & Kingma 2016): kernel = g v / ||v||, the norm taken over all
axes but the output channels; ``init_scale`` sets the initial gain (variance scale of a
fan-in initialiser without it).

Data-dependent initialisation (Salimans & Kingma 2016, Sec. 3; used by PixelCNN++): with
t = conv(x, v / ||v||) on a batch of real inputs, per output channel

    g <- s / sigma[t],    b <- -mu[t] s / sigma[t],

so the layer's initial outputs have mean 0 and standard deviation s = ``init_scale`` on that
batch. `request_data_init` arms it; the layer's next eager call sets g and b from its own
inputs and returns the re-initialised output, so a forward pass initialises the layers of a
network in order, each on the outputs of the ones before it.
"""
import keras
import tensorflow as tf

__all__ = [
    "DownShiftedConv2D", "DownRightShiftedConv2D", "DownShiftedConv2DTranspose",
    "DownRightShiftedConv2DTranspose", "NetworkInNetwork", "down_shift", "right_shift",
    "concat_elu",
]


def concat_elu(x):
  """elu([x, -x]) on the channel axis: doubles the channels, keeps both signs' information."""
  return tf.nn.elu(tf.concat([x, -x], axis=-1))


def down_shift(x, top=None):
  """Shifts [B, H, W, C] down one row; the new first row is ``top`` [B, 1, W, C] or zeros."""
  if top is None:
    top = tf.zeros_like(x[:, :1])
  return tf.concat([top, x[:, :-1]], axis=1)


def right_shift(x):
  """Shifts [B, H, W, C] right one column, zeros entering on the left."""
  return tf.pad(x[:, :, :-1], [[0, 0], [0, 0], [1, 0], [0, 0]])


class _WeightNormedKernel(keras.layers.Layer):
  """Shared machinery: a kernel with optional weight normalisation and a bias."""

  _out_axis = -1  # Output-channel axis of the kernel.

  def __init__(self, filters, kernel_size, use_weight_norm=False, init_scale=1.0, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.kernel_size = tuple(int(k) for k in kernel_size)
    self.use_weight_norm = bool(use_weight_norm)
    self.init_scale = float(init_scale)
    self._data_init_pending = False

  def request_data_init(self):
    """Arms the data-dependent initialisation of g and b for the next (eager) call."""
    if not self.use_weight_norm:
      raise ValueError(f"{self.name}: data-dependent initialisation needs use_weight_norm.")
    self._data_init_pending = True

  def _finish(self, y):
    """y + bias (in y's dtype), after the data-dependent initialisation if one is pending."""
    if self._data_init_pending:
      if not tf.executing_eagerly():
        raise RuntimeError(f"{self.name}: run the data-dependent initialisation eagerly.")
      self._data_init_pending = False
      shape = [1] * (len(y.shape) - 1) + [self.filters]
      # y = g t per channel here (no bias yet), so t = y / g.
      t = tf.cast(y, tf.float32) / tf.reshape(tf.convert_to_tensor(self.g), shape)
      mean, variance = tf.nn.moments(t, axes=list(range(len(y.shape) - 1)))
      scale = self.init_scale * tf.math.rsqrt(variance + 1e-10)
      self.g.assign(scale)
      self.bias.assign(-mean * scale)
      return tf.cast(t * tf.reshape(scale, shape) + self.bias, y.dtype)
    return y + tf.cast(self.bias, y.dtype)

  def _kernel_shape(self, in_channels):
    return (*self.kernel_size, in_channels, self.filters)

  def build(self, input_shape):
    in_channels = int(input_shape[-1])
    shape = self._kernel_shape(in_channels)
    if self.use_weight_norm:
      self.v = self.add_weight(name="v", shape=shape,
                               initializer=keras.initializers.RandomNormal(stddev=0.05))
      self.g = self.add_weight(name="g", shape=(self.filters,),
                               initializer=keras.initializers.Constant(self.init_scale ** 0.5))
    else:
      self.kernel = self.add_weight(
          name="kernel", shape=shape,
          initializer=keras.initializers.VarianceScaling(self.init_scale, "fan_in",
                                                         "truncated_normal"))
    self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

  def _effective_kernel(self, dtype=tf.float32):
    """The kernel (g v / ||v|| with weight norm, computed in float32), cast to ``dtype``:
    the dtype of the layer's input, bfloat16 under mixed precision."""
    if not self.use_weight_norm:
      return tf.cast(self.kernel, dtype)
    rank = len(self.v.shape)
    out_axis = self._out_axis % rank
    axes = [a for a in range(rank) if a != out_axis]
    v = tf.convert_to_tensor(self.v)
    scale = self.g * tf.math.rsqrt(tf.reduce_sum(tf.square(v), axis=axes) + 1e-12)
    shape = [1] * rank
    shape[out_axis] = self.filters
    return tf.cast(v * tf.reshape(scale, shape), dtype)

  def get_config(self):
    config = super().get_config()
    config.update(filters=self.filters, kernel_size=self.kernel_size,
                  use_weight_norm=self.use_weight_norm, init_scale=self.init_scale)
    return config


@keras.saving.register_keras_serializable(package="tfib")
class NetworkInNetwork(_WeightNormedKernel):
  """A 1x1 convolution (a dense layer on the channel axis), optionally weight-normalised."""

  def __init__(self, filters, use_weight_norm=False, init_scale=1.0, **kwargs):
    kwargs.pop("kernel_size", None)
    super().__init__(filters, (), use_weight_norm, init_scale, **kwargs)

  def call(self, x):
    return self._finish(tf.tensordot(x, self._effective_kernel(x.dtype), axes=[[-1], [0]]))

  def compute_output_shape(self, input_shape):
    return (*input_shape[:-1], self.filters)

  def get_config(self):
    config = super().get_config()
    config.pop("kernel_size")
    return config


class _ShiftedConv2D(_WeightNormedKernel):
  """Pads one row block above (``top`` or zeros) and columns per subclass, then convolves."""

  def __init__(self, filters, kernel_size, strides=1, use_weight_norm=False, init_scale=1.0,
               **kwargs):
    super().__init__(filters, kernel_size, use_weight_norm, init_scale, **kwargs)
    self.strides = int(strides)
    if self.strides not in (1, 2):
      raise ValueError(f"strides must be 1 or 2, got {strides}.")

  def _column_padding(self):
    raise NotImplementedError

  def call(self, x, top=None):
    kh = self.kernel_size[0]
    if kh > 1:
      if top is None:
        top = tf.zeros_like(x[:, :kh - 1])
      x = tf.concat([top, x], axis=1)
    x = tf.pad(x, [[0, 0], [0, 0], list(self._column_padding()), [0, 0]])
    return self._finish(tf.nn.conv2d(x, self._effective_kernel(x.dtype), self.strides, "VALID"))

  def compute_output_shape(self, input_shape):
    b, h, w, _ = input_shape
    s = self.strides
    return (b, None if h is None else -(-h // s), None if w is None else -(-w // s),
            self.filters)

  def get_config(self):
    config = super().get_config()
    config.update(strides=self.strides)
    return config


@keras.saving.register_keras_serializable(package="tfib")
class DownShiftedConv2D(_ShiftedConv2D):
  """Output row r sees input rows r-kh+1..r, columns c-(kw-1)/2..c+(kw-1)/2 (kw odd)."""

  def __init__(self, filters, kernel_size=(2, 3), strides=1, use_weight_norm=False,
               init_scale=1.0, **kwargs):
    if kernel_size[1] % 2 != 1:
      raise ValueError(f"DownShiftedConv2D needs an odd kernel width, got {kernel_size}.")
    super().__init__(filters, kernel_size, strides, use_weight_norm, init_scale, **kwargs)

  def _column_padding(self):
    half = (self.kernel_size[1] - 1) // 2
    return half, half


@keras.saving.register_keras_serializable(package="tfib")
class DownRightShiftedConv2D(_ShiftedConv2D):
  """Output (r, c) sees input rows r-kh+1..r and columns c-kw+1..c."""

  def __init__(self, filters, kernel_size=(2, 2), strides=1, use_weight_norm=False,
               init_scale=1.0, **kwargs):
    super().__init__(filters, kernel_size, strides, use_weight_norm, init_scale, **kwargs)

  def _column_padding(self):
    return self.kernel_size[1] - 1, 0


class _ShiftedConv2DTranspose(_WeightNormedKernel):
  """Stride-2 transposed convolution with kernel height 2, cropped to [2H, 2W]."""

  _out_axis = -2  # conv2d_transpose kernels are [kh, kw, out, in].

  def __init__(self, filters, kernel_size, use_weight_norm=False, init_scale=1.0, **kwargs):
    kwargs.pop("strides", None)
    if kernel_size[0] != 2:
      raise ValueError(f"transposed shifted convolutions need kernel height 2, got "
                       f"{kernel_size}.")
    super().__init__(filters, kernel_size, use_weight_norm, init_scale, **kwargs)

  def _kernel_shape(self, in_channels):
    return (*self.kernel_size, self.filters, in_channels)

  def _first_column(self):
    raise NotImplementedError

  def call(self, x):
    shape = tf.shape(x)
    kw = self.kernel_size[1]
    out_h, out_w = 2 * shape[1], 2 * shape[2] + kw - 2
    y = tf.nn.conv2d_transpose(x, self._effective_kernel(x.dtype),
                               tf.stack([shape[0], out_h, out_w, self.filters]), 2, "VALID")
    start = self._first_column()
    return self._finish(y[:, :, start:start + 2 * x.shape[2]])

  def compute_output_shape(self, input_shape):
    b, h, w, _ = input_shape
    return (b, None if h is None else 2 * h, None if w is None else 2 * w, self.filters)


@keras.saving.register_keras_serializable(package="tfib")
class DownShiftedConv2DTranspose(_ShiftedConv2DTranspose):
  """Upsamples the down stream by 2: fine rows 2i, 2i+1 come from coarse row i."""

  def __init__(self, filters, kernel_size=(2, 3), use_weight_norm=False, init_scale=1.0,
               **kwargs):
    super().__init__(filters, kernel_size, use_weight_norm, init_scale, **kwargs)

  def _first_column(self):
    return (self.kernel_size[1] - 1) // 2


@keras.saving.register_keras_serializable(package="tfib")
class DownRightShiftedConv2DTranspose(_ShiftedConv2DTranspose):
  """Upsamples the down-right stream by 2: fine (2i+a, 2j+b) comes from coarse (i, j)."""

  def __init__(self, filters, kernel_size=(2, 2), use_weight_norm=False, init_scale=1.0,
               **kwargs):
    super().__init__(filters, kernel_size, use_weight_norm, init_scale, **kwargs)

  def _first_column(self):
    return 0
