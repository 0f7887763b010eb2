"""The gated residual block of PixelCNN++, with an additive conditioning term.

Mathematical details
--------------------
For a stream x with F channels, an optional shortcut input a (the other stream, or the
matching layer of the down pass: the U-Net connections), and a conditioning term
c = V h (a global vector, van den Oord et al. 2016 eq. 4) or c = V * s(h) (a feature map
brought to this resolution, eq. 5, location-dependent):

    y1 = conv(concat_elu(x)) + nin(concat_elu(a))
    y2 = conv(dropout(concat_elu(y1))) + c          (2F channels)
    out = x + y2[:F] * sigmoid(y2[F:])

with `conv` a down-shifted [2, 3] convolution in the down stream and a down-right-shifted
[2, 2] one in the down-right stream (Salimans et al. 2017, Fig. 2; van den Oord et al. 2016,
Fig. 2). `nin` is a 1x1 convolution, concat_elu(z) = elu([z, -z]).
"""
import keras
import tensorflow as tf

from tfib.distributions import shifted_convolutions as sc
from tfib.distributions.row_cache import RowCache

__all__ = ["GatedResidualBlock"]

def _fmix32(h):
  """The murmur3 32-bit finaliser: a bijective avalanche hash of uint32 values."""
  xor, shift = tf.bitwise.bitwise_xor, tf.bitwise.right_shift
  h = xor(h, shift(h, tf.constant(16, tf.uint32))) * tf.constant(0x85EBCA6B, tf.uint32)
  h = xor(h, shift(h, tf.constant(13, tf.uint32))) * tf.constant(0xC2B2AE35, tf.uint32)
  return xor(h, shift(h, tf.constant(16, tf.uint32)))


def _replica_key(key):
  """Mixes the tf.distribute replica id into a dropout key [2] (uint32).

  Under a strategy the seed states are mirrored, so every replica would draw the key of
  replica 0, hence the same masks for different images. Replica r > 0 XORs m_r = fmix32(r g)
  (g = 0x9E3779B9) into the counter word k1, which counts the calls: k1 ^ m_r is a counter
  that no replica reaches in fewer than ~2^28 calls for r <= 8. Replica 0 and a single
  device keep the key, so their masks are those of an undistributed run.
  """
  context = tf.distribute.get_replica_context()
  if not tf.distribute.has_strategy() or context is None:
    return key
  replica = context.replica_id_in_sync_group
  if tf.get_static_value(replica) == 0:
    return key
  mix = _fmix32(tf.cast(replica, tf.uint32) * tf.constant(0x9E3779B9, tf.uint32))
  return tf.bitwise.bitwise_xor(key, tf.stack([tf.constant(0, tf.uint32), mix]))


_CONVS = {"down": sc.DownShiftedConv2D, "down_right": sc.DownRightShiftedConv2D}


@keras.saving.register_keras_serializable(package="tfib")
class GatedResidualBlock(keras.layers.Layer):
  """One gated residual block; ``stream`` is "down" or "down_right".

  ``aux_channels``: channels of the shortcut input (None: no shortcut);
  ``condition_channels``: channels of the conditioning map (None: unconditional).
  ``call(x, aux=None, condition=None, training=None, rows=None)``: ``aux`` the shortcut input,
  ``condition`` the additive [B, h|1, w|1, 2F] term made by `project_condition`, ``rows`` a
  `RowCache` for band evaluation.
  """

  def __init__(self, num_filters, stream="down", aux_channels=None, condition_channels=None,
               dropout_p=0.0, use_weight_norm=False, **kwargs):
    super().__init__(**kwargs)
    if stream not in _CONVS:
      raise ValueError(f"stream must be one of {sorted(_CONVS)}, got {stream!r}.")
    self.num_filters = int(num_filters)
    self.stream = stream
    self.aux_channels = None if aux_channels is None else int(aux_channels)
    self.condition_channels = None if condition_channels is None else int(condition_channels)
    self.has_aux = self.aux_channels is not None
    self.conditional = self.condition_channels is not None
    self.dropout_p = float(dropout_p)
    self.use_weight_norm = bool(use_weight_norm)
    conv = _CONVS[stream]
    self.conv1 = conv(self.num_filters, use_weight_norm=self.use_weight_norm, name="conv1")
    self.conv2 = conv(2 * self.num_filters, use_weight_norm=self.use_weight_norm,
                      init_scale=0.1, name="conv2")
    self.aux_nin = (sc.NetworkInNetwork(self.num_filters, self.use_weight_norm, name="aux")
                    if self.has_aux else None)
    self.condition_nin = (
        sc.NetworkInNetwork(2 * self.num_filters, self.use_weight_norm, init_scale=0.1,
                            name="condition") if self.conditional else None)
    self.seed_generator = (keras.random.SeedGenerator(name=f"{self.name}_dropout_seed")
                           if self.dropout_p > 0 else None)

  def build(self, input_shape=None):
    f = self.num_filters
    self.conv1.build((None, None, None, 2 * f))
    self.conv2.build((None, None, None, 2 * f))
    if self.aux_nin is not None:
      self.aux_nin.build((None, None, None, 2 * self.aux_channels))
    if self.condition_nin is not None:
      self.condition_nin.build((None, None, None, self.condition_channels))
    self.built = True

  def project_condition(self, condition_map):
    """The block's additive term V h from a conditioning map [B, h|1, w|1, D]."""
    if self.condition_nin is None:
      raise ValueError(f"{self.name} is not conditional.")
    return self.condition_nin.call(condition_map)

  def call(self, x, aux=None, condition=None, training=None, rows=None):
    if (aux is None) == self.has_aux:
      raise ValueError(f"{self.name}: shortcut input {'missing' if self.has_aux else 'given'}"
                       f" (has_aux={self.has_aux}).")
    if (condition is None) == self.conditional:
      raise ValueError(f"{self.name}: conditioning term "
                       f"{'missing' if self.conditional else 'given'} "
                       f"(conditional={self.conditional}).")
    rows = RowCache() if rows is None else rows
    # Sublayers are built in build() and called through .call: Keras' __call__ bookkeeping
    # dominates tracing time otherwise (the sampler traces the network several times).
    h = sc.concat_elu(x)
    y = self.conv1.call(h, top=rows.top(h))
    if aux is not None:
      y = y + self.aux_nin.call(sc.concat_elu(aux))
    y = sc.concat_elu(y)
    if self.dropout_p > 0 and training:
      y = self._dropout(y)
    y = self.conv2.call(y, top=rows.top(y))
    if condition is not None:
      y = y + condition
    a, b = tf.split(y, 2, axis=-1)
    return x + a * tf.sigmoid(b)

  def _dropout(self, y):
    # Counter-based: keep element i iff hash(i, key) >= p 2^32, the key fresh from the seed
    # generator on every call. XLA's stateless generators on CPU cost more than the
    # convolutions around them; the murmur3 finaliser fuses into one elementwise loop.
    key = _replica_key(tf.bitcast(tf.cast(self.seed_generator.next(), tf.int32), tf.uint32))
    index = tf.bitcast(tf.reshape(tf.range(tf.size(y)), tf.shape(y)), tf.uint32)
    bits = _fmix32(tf.bitwise.bitwise_xor(
        _fmix32(index * tf.constant(0x9E3779B9, tf.uint32) + key[0]), key[1]))
    threshold = min(int(round(self.dropout_p * 2.0 ** 32)), 2 ** 32 - 1)
    keep = bits >= tf.constant(threshold, tf.uint32)
    return tf.where(keep, y * (1.0 / (1.0 - self.dropout_p)), tf.zeros_like(y))

  def compute_output_shape(self, input_shape, *args, **kwargs):
    return input_shape

  def get_config(self):
    config = super().get_config()
    config.update(num_filters=self.num_filters, stream=self.stream,
                  aux_channels=self.aux_channels, condition_channels=self.condition_channels,
                  dropout_p=self.dropout_p,
                  use_weight_norm=self.use_weight_norm)
    return config
