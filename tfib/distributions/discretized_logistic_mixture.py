"""The discretized logistic mixture likelihood of PixelCNN++, with channel coupling.

Mathematical details
--------------------
Pixel values are integers v in {low, ..., high}. They are mapped to the interval [-1, 1],

    x = 2 (v - low) / (high - low) - 1,

so neighbouring levels are 2 delta apart with delta = 1 / (high - low). Each pixel (all its
C channels together) has a mixture of K components. Component k gives channel c a logistic
distribution with location mu_kc and scale s_kc = exp(log_s_kc), and the location of channel c
depends linearly on the channels before it in the same pixel (Salimans et al. 2017, eq. 3):

    mu'_kc = mu_kc + sum_{j < c} tanh(a_kcj) x_j .

The logistic is discretized into bins of width 2 delta around each level; the two edge bins
absorb the tails, so the probabilities of all levels sum to one exactly (eq. 2):

    P(x_c | k) = sigma((x_c - mu' + delta) / s)                            x_c = -1 (v = low)
               = 1 - sigma((x_c - mu' - delta) / s)                        x_c = +1 (v = high)
               = sigma((x_c - mu' + delta) / s) - sigma((x_c - mu' - delta) / s)   otherwise

    p(pixel) = sum_k pi_k prod_c P(x_c | x_<c, k),      pi = softmax(logits).

The middle bins are computed without cancellation: with a = (x - mu' + delta)/s and
b = (x - mu' - delta)/s,

    log(sigma(a) - sigma(b)) = -softplus(-a) - softplus(b) + log(1 - exp(b - a)),

which is exact in both tails (the original code switches to a density approximation where the
bin mass falls below 1e-5; this form needs no such switch). Log-scales are clipped below at -7
as in the reference implementation.

Parameter layout
----------------
The network emits, for every pixel, P = K (1 + 2C + C(C-1)/2) numbers in the order
[K logits | K*C locations | K*C log-scales | K*C(C-1)/2 coupling pre-activations], each block
component-major (component k's C values are contiguous).

References: T. Salimans, A. Karpathy, X. Chen, D. P. Kingma. "PixelCNN++: Improving the
PixelCNN with discretized logistic mixture likelihood and other modifications", ICLR 2017.
"""
import tensorflow as tf

__all__ = [
    "num_params", "split_params", "scale_to_unit", "unit_to_levels", "log_prob",
    "sample",
]

MIN_LOG_SCALE = -7.0


def num_coupling(num_channels: int) -> int:
  """C(C-1)/2 coupling coefficients per mixture component."""
  return num_channels * (num_channels - 1) // 2


def num_params(num_channels: int, num_mix: int) -> int:
  """Parameters per pixel: K (1 + 2C + C(C-1)/2)."""
  return num_mix * (1 + 2 * num_channels + num_coupling(num_channels))


def split_params(params, num_channels: int, num_mix: int):
  """Splits [..., P] into logits [..., K], locs, log_scales [..., K, C], coeffs [..., K, C']."""
  c, k = num_channels, num_mix
  nc = num_coupling(c)
  if params.shape[-1] is not None and params.shape[-1] != num_params(c, k):
    raise ValueError(f"expected {num_params(c, k)} parameters per pixel for {c} channels and "
                     f"{k} mixture components, got {params.shape[-1]}.")
  logits, locs, log_scales, coeffs = tf.split(params, [k, k * c, k * c, k * nc], axis=-1)
  lead = tf.shape(params)[:-1]
  locs = tf.reshape(locs, tf.concat([lead, [k, c]], 0))
  log_scales = tf.maximum(tf.reshape(log_scales, tf.concat([lead, [k, c]], 0)), MIN_LOG_SCALE)
  coeffs = tf.tanh(tf.reshape(coeffs, tf.concat([lead, [k, nc]], 0)))
  return logits, locs, log_scales, coeffs


def scale_to_unit(values, low, high):
  """Maps integer levels in [low, high] to [-1, 1]."""
  return 2.0 * (values - low) / (high - low) - 1.0


def unit_to_levels(x, low, high):
  """Inverse of `scale_to_unit`, rounded to the nearest level and clipped to [low, high]."""
  levels = tf.round((x + 1.0) * 0.5 * (high - low))
  return tf.clip_by_value(levels, 0.0, float(high - low)) + low


def _coupled_locs(locs, coeffs, x):
  """mu'_kc = mu_kc + sum_{j<c} coeff_kcj x_j; locs [..., K, C], x [..., C] in [-1, 1]."""
  num_channels = locs.shape[-1]
  if num_channels == 1:
    return locs
  x = x[..., None, :]  # Broadcast over components.
  out, index = [locs[..., 0]], 0
  for ch in range(1, num_channels):
    loc = locs[..., ch]
    for j in range(ch):
      loc = loc + coeffs[..., index] * x[..., j]
      index += 1
    out.append(loc)
  return tf.stack(out, axis=-1)


def log_prob(values, params, num_channels: int, num_mix: int, low, high):
  """Per-pixel log-probability (nats) of integer ``values`` [..., C] under ``params`` [..., P].

  Returns [...]: one term per pixel (the channels of a pixel are one joint term, coupled
  through the linear dependence above).
  """
  logits, locs, log_scales, coeffs = split_params(params, num_channels, num_mix)
  values = tf.cast(values, params.dtype)
  x = scale_to_unit(values, low, high)
  delta = 1.0 / (high - low)
  mean = _coupled_locs(locs, coeffs, x)
  centred = x[..., None, :] - mean  # [..., K, C]
  inv_scale = tf.exp(-log_scales)
  plus = inv_scale * (centred + delta)
  minus = inv_scale * (centred - delta)
  log_cdf_plus = -tf.nn.softplus(-plus)  # log sigma(plus): the low edge bin.
  log_sf_minus = -tf.nn.softplus(minus)  # log (1 - sigma(minus)): the high edge bin.
  # log(1 - exp(-(plus - minus))), plus - minus = 2 delta / s > 0.
  log_width = tf.math.log(-tf.math.expm1(-2.0 * delta * inv_scale))
  log_mid = log_cdf_plus + log_sf_minus + log_width
  at_low = (values == low)[..., None, :]
  at_high = (values == high)[..., None, :]
  per_channel = tf.where(at_low, log_cdf_plus, tf.where(at_high, log_sf_minus, log_mid))
  per_component = tf.reduce_sum(per_channel, axis=-1) + tf.nn.log_softmax(logits, axis=-1)
  return tf.reduce_logsumexp(per_component, axis=-1)


def sample(params, num_channels: int, num_mix: int, low, high, seed):
  """Draws integer levels [..., C] (as floats) from ``params`` [..., P] with a stateless seed.

  The component is drawn once per pixel (Gumbel-max), then the channels in order, each
  location coupled to the already drawn (quantized) channels, exactly as `log_prob` scores
  them. A logistic draw rounded to the nearest level and clipped to [low, high] has exactly
  the discretized law above (the edge bins take the tails).
  """
  logits, locs, log_scales, coeffs = split_params(params, num_channels, num_mix)
  seeds = tf.random.experimental.stateless_split(seed, num=1 + num_channels, alg="philox")
  gumbel_u = tf.random.stateless_uniform(tf.shape(logits), seeds[0], minval=1e-6,
                                         maxval=1.0 - 1e-6, dtype=params.dtype,
                                         alg="philox")
  choice = tf.argmax(logits - tf.math.log(-tf.math.log(gumbel_u)), axis=-1)
  one_hot = tf.one_hot(choice, num_mix, dtype=params.dtype)[..., None]  # [..., K, 1]
  locs = tf.reduce_sum(locs * one_hot, axis=-2)  # [..., C]
  scales = tf.exp(tf.reduce_sum(log_scales * one_hot, axis=-2))
  coeffs = tf.reduce_sum(coeffs * one_hot, axis=-2)
  channels, index = [], 0
  for ch in range(num_channels):
    loc = locs[..., ch]
    for j in range(ch):
      loc = loc + coeffs[..., index] * channels[j]
      index += 1
    u = tf.random.stateless_uniform(tf.shape(loc), seeds[1 + ch], minval=1e-6,
                                    maxval=1.0 - 1e-6, dtype=params.dtype, alg="philox")
    draw = loc + scales[..., ch] * (tf.math.log(u) - tf.math.log1p(-u))
    channels.append(scale_to_unit(unit_to_levels(draw, low, high), low, high))
  x = tf.stack(channels, axis=-1)
  return unit_to_levels(x, low, high)
