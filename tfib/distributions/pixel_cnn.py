"""`PixelCNN`: a conditional PixelCNN++ as a TensorFlow Probability distribution over images.

Mathematical details
--------------------
An image v of H x W pixels with C channels, integer levels in [low, high], factorises in
raster order (van den Oord et al. 2016; Salimans et al. 2017):

    log p(v | h) = sum_{i < HW} log p(v_i | v_<i, h),

each factor a discretized logistic mixture over the C channels of pixel i (with linear
coupling between channels, `discretized_logistic_mixture.py`), its parameters computed for
all pixels at once by a causal network (`pixelcnn_network.py`). ``h`` is None
(unconditional), a vector [D] or a feature map [h, w, D] per image (`conditioning.py`).

Bits per dimension: -log2 p(v | h) / (H W C). For the decoder bounds of Darlow & Storkey
(2020), E[-log2 p(X | H)] upper-bounds H(X | H) and the unconditional model's
E[-log2 p(X)] upper-bounds H(X).

Caveats: ``log_prob`` is exact and normalised over the (high - low + 1)^(HWC) images;
``sample`` is sequential (HW network evaluations on bands of 2^(L-1) rows, see
`sampling.py`). With ``validate_args`` (default) values outside [low, high], non-integer
values and conditional inputs of the wrong rank or shape raise ValueError.
"""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfib.distributions import discretized_logistic_mixture as dlm
from tfib.distributions.pixelcnn_network import PixelCNNNetwork
from tfib.distributions.sampling import BandSampler

__all__ = ["PixelCNN"]

tfd = tfp.distributions


class PixelCNN(tfd.Distribution):
  """Conditional PixelCNN++ over [H, W, C] images of integer levels in [low, high].

  Either give the network configuration (``image_shape``, ``conditional_shape``,
  ``num_resnet``, ...) or a built `PixelCNNNetwork` as ``network`` (e.g. the Polyak-averaged
  copy kept by `tfib.training.pixelcnn_training.PixelCNNTrainer`).

      dist = PixelCNN((28, 28, 1), conditional_shape=(7, 7, 32), num_filters=64)
      nll = -dist.log_prob(images, conditional_input=h)
      samples = dist.sample(16, conditional_input=h[:16])

  Args: ``image_shape`` [H, W, C] (H and W multiples of 2^(num_hierarchies - 1));
  ``conditional_shape`` None, [D] or [h, w, D]; ``num_resnet`` gated blocks per level (the
  paper: 5); ``num_hierarchies`` levels (3); ``num_filters`` (160); ``num_logistic_mix`` (10);
  ``dropout_p`` (0.5); ``use_weight_norm``; ``conditioning_filters`` channels of the maps
  made from a spatial h (default num_filters); ``low``, ``high`` the integer pixel range;
  ``network`` a `PixelCNNNetwork` to use instead (the configuration arguments are then taken
  from it); ``jit_compile_sampling`` XLA for the sampling loop; ``dtype_policy`` the
  network's Keras dtype policy, "float32" (None) or "mixed_bfloat16" (bfloat16 streams,
  float32 weights and likelihood: `pixelcnn_network`).
  """

  def __init__(self, image_shape=None, conditional_shape=None, num_resnet=5,
               num_hierarchies=3, num_filters=160, num_logistic_mix=10, dropout_p=0.5,
               use_weight_norm=False, conditioning_filters=None, low=0, high=255,
               network=None, jit_compile_sampling=True, validate_args=True,
               dtype_policy=None, name="PixelCNN"):
    parameters = dict(locals())
    if int(high) != high or int(low) != low or high <= low:
      raise ValueError(f"low and high must be integers with low < high, got {low}, {high}.")
    with tf.name_scope(name) as name:
      super().__init__(dtype=tf.float32,
                       reparameterization_type=tfd.NOT_REPARAMETERIZED,
                       validate_args=validate_args, allow_nan_stats=True,
                       parameters=parameters, name=name)
    if network is None:
      if image_shape is None:
        raise ValueError("give image_shape (and the network configuration) or a network.")
      network = PixelCNNNetwork(image_shape, conditional_shape, num_resnet, num_hierarchies,
                                num_filters, num_logistic_mix, dropout_p, use_weight_norm,
                                conditioning_filters, dtype=dtype_policy)
    if not network.built:
      network.build()
    self.network = network
    self.low, self.high = int(low), int(high)
    self.image_shape = network.image_shape
    self.conditional_shape = network.conditional_shape
    self.sampler = BandSampler(network, self.low, self.high, jit_compile_sampling)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return {}

  def _event_shape(self):
    return tf.TensorShape(self.image_shape)

  def _event_shape_tensor(self):
    return tf.constant(self.image_shape, tf.int32)

  def _batch_shape(self):
    return tf.TensorShape([])

  def _batch_shape_tensor(self):
    return tf.constant([], tf.int32)

  # --- checks -------------------------------------------------------------------------

  def _check_value(self, value, check_levels=True):
    value = tf.convert_to_tensor(value, self.dtype)
    if value.shape.rank is None or value.shape.rank < 3 or (
        tuple(value.shape[-3:]) != self.image_shape):
      raise ValueError(f"images must have shape [..., {', '.join(map(str, self.image_shape))}]"
                       f", got {value.shape}.")
    if not (self.validate_args and check_levels):
      return value
    static = tf.get_static_value(value)
    if static is not None:
      if static.size and (static.min() < self.low or static.max() > self.high):
        raise ValueError(f"pixel values must lie in [{self.low}, {self.high}], got values in "
                         f"[{static.min()}, {static.max()}].")
      if not np.all(static == np.round(static)):
        raise ValueError("pixel values must be integers (levels), got non-integer values; "
                         "quantize the images first.")
      return value
    checks = [
        tf.debugging.assert_greater_equal(value, float(self.low),
                                          message=f"pixel values below {self.low}"),
        tf.debugging.assert_less_equal(value, float(self.high),
                                       message=f"pixel values above {self.high}"),
        tf.debugging.assert_equal(value, tf.round(value), message="non-integer pixel values"),
    ]
    with tf.control_dependencies(checks):
      return tf.identity(value)

  def _check_conditional(self, conditional_input):
    if self.conditional_shape is None:
      if conditional_input is not None:
        raise ValueError("this PixelCNN is unconditional; conditional_input must be None.")
      return None
    if conditional_input is None:
      raise ValueError(f"this PixelCNN is conditional: give conditional_input of shape "
                       f"[batch, {', '.join(map(str, self.conditional_shape))}].")
    h = tf.convert_to_tensor(conditional_input, self.dtype)
    rank = len(self.conditional_shape)
    if h.shape.rank is None or h.shape.rank < rank or (
        tuple(h.shape[h.shape.rank - rank:]) != self.conditional_shape):
      kind = "a global vector" if rank == 1 else "a feature map"
      raise ValueError(f"conditional_input must be {kind} of shape [..., "
                       f"{', '.join(map(str, self.conditional_shape))}], got {h.shape} "
                       f"(rank {h.shape.rank}).")
    return h

  # --- likelihood ---------------------------------------------------------------------

  def pixel_log_probs(self, value, conditional_input=None, training=False, validate=True):
    """The HW per-pixel terms log p(v_i | v_<i, h) in nats, shape [..., H, W].

    ``validate=False`` skips the value checks of ``validate_args`` (shapes are still
    checked): for compiled training steps on data checked once up front.
    """
    value = self._check_value(value, check_levels=validate)
    h = self._check_conditional(conditional_input)
    event_rank = len(self.image_shape)
    batch_shape = tf.shape(value)[:-event_rank]
    if h is not None:
      cond_rank = len(self.conditional_shape)
      batch_shape = tf.broadcast_dynamic_shape(batch_shape, tf.shape(h)[:-cond_rank])
      h = tf.broadcast_to(h, tf.concat([batch_shape, self.conditional_shape], 0))
      h = tf.reshape(h, [-1, *self.conditional_shape])
      value = tf.broadcast_to(value, tf.concat([batch_shape, self.image_shape], 0))
    flat = tf.reshape(value, [-1, *self.image_shape])
    x = dlm.scale_to_unit(flat, self.low, self.high)
    terms = self.network.condition(h) if h is not None else None
    params, _ = self.network.forward(x, terms, training=training)
    logp = dlm.log_prob(flat, params, self.image_shape[-1], self.network.num_logistic_mix,
                        self.low, self.high)
    return tf.reshape(logp, tf.concat([batch_shape, self.image_shape[:2]], 0))

  def initialize_from_data(self, value, conditional_input=None):
    """Data-dependent initialisation of the weight-normalised layers, on a batch ``value``.

    Every layer's gain and bias are set so that its outputs on this batch have mean 0 and
    standard deviation ``init_scale`` (Salimans & Kingma 2016; see `shifted_convolutions`),
    layer after layer in one eager forward pass without dropout. Needs
    ``use_weight_norm=True``; `PixelCNNTrainer` calls it on its first batch.
    """
    layers = self.network.weight_normed_layers()
    if not layers:
      raise ValueError("initialize_from_data needs a network built with use_weight_norm=True.")
    if not tf.executing_eagerly():
      raise RuntimeError("initialize_from_data runs eagerly, not inside a tf.function.")
    for layer in layers:
      layer.request_data_init()
    try:
      self.pixel_log_probs(value, conditional_input, training=False)
    finally:
      missed = [layer.name for layer in layers if layer._data_init_pending]  # pylint: disable=protected-access
      for layer in layers:
        layer._data_init_pending = False  # pylint: disable=protected-access
    if missed:
      raise RuntimeError(f"layers not reached by the forward pass: {missed}")

  def _log_prob(self, value, conditional_input=None, training=False):
    return tf.reduce_sum(self.pixel_log_probs(value, conditional_input, training), [-2, -1])

  def bits_per_dim(self, value, conditional_input=None, training=False):
    """-log2 p(v | h) / (H W C) per image."""
    return -self.log_prob(value, conditional_input=conditional_input, training=training) / (
        float(np.prod(self.image_shape)) * np.log(2.0))

  # --- sampling -----------------------------------------------------------------------

  def _sample_n(self, n, seed=None, conditional_input=None):
    h = self._check_conditional(conditional_input)
    n = int(tf.get_static_value(n))
    if h is not None:
      rank = len(self.conditional_shape)
      h = tf.reshape(h, [-1, *self.conditional_shape])
      count = int(h.shape[0])
      if n % count:
        raise ValueError(f"sample({n}) with {count} conditional inputs: n must be a multiple "
                         f"of the number of conditional inputs (sample i uses input i mod "
                         f"{count}).")
      h = tf.tile(h, [n // count] + [1] * rank)
    seed = tfp.random.sanitize_seed(seed)
    return self.sampler.sample(n, h, seed)
