"""Compiled ancestral sampling of PixelCNN++ by bands of rows, reusing all that is fixed.

Mathematical details
--------------------
Sampling is sequential: pixel i is drawn from p(x_i | x_<i, h), so an image of H x W pixels
takes H W network evaluations. Two facts make each evaluation cheap:

1. Every layer's output at row r depends on its inputs at rows <= r only (one row up per
   convolution). With the last input row of each convolution kept from the band above
   (`RowCache`), evaluating the network on rows [a, a + m) alone gives exactly the outputs of
   the full image there. With m = 2^(L-1) (one row at the coarsest level) the bands align at
   every level; each step costs about m / H of a full pass.
   Within a band, row r needs the band's rows 0..r only (the network is evaluated on a band
   cut short at the bottom), which saves a further ~1.5x for 3 levels. And the down stream
   (rows above) does not change while a row is drawn: it is evaluated once per row and
   only the down-right stream per pixel, about half the network.
2. The conditioning terms of all blocks depend on h alone: they are computed once per call,
   before the loops, and only sliced per band.

The band loop and the pixel loop are `tf.while_loop`s inside one `tf.function`, XLA-compiled
by default. Random numbers are stateless: the seed is folded with the pixel index.

Caveats: the first call compiles (about a minute on 2 CPU cores for 28x28, 64 filters; the
compiled function is kept per batch size); ``jit_compile=False`` starts sooner and runs
slower. The same seed gives the same images on every call, but XLA's and TensorFlow's
Philox kernels differ, so compiled and uncompiled samplers draw different images.
"""
import tensorflow as tf

from tfib.distributions import discretized_logistic_mixture as dlm

__all__ = ["BandSampler"]


class BandSampler:
  """Draws images from a `PixelCNNNetwork`; ``sample(n, h, seed)`` -> [n, H, W, C] levels."""

  def __init__(self, network, low, high, jit_compile=True):
    self.network = network
    self.low, self.high = low, high
    self.jit_compile = jit_compile
    self._compiled = tf.function(self._sample, jit_compile=jit_compile, autograph=False)

  def sample(self, n, conditional_input, seed):
    """n images ([n, H, W, C], integer levels as floats); h already batched to n or None."""
    return self._compiled(int(n), conditional_input, seed)

  def _sample(self, n, h, seed):
    net = self.network
    height, width, channels = net.image_shape
    m = net.band_height
    num_bands = height // m
    dtype = tf.float32  # Images and levels; the network casts to its compute dtype.
    terms = net.condition(h) if h is not None else None
    first = tf.zeros([n, m, width, channels], dtype)
    _, recorded = net.forward(first, net.slice_terms(terms, 0), training=False)
    tops0 = [tf.zeros_like(r) for r in recorded]  # The zero padding above the image.
    bands0 = tf.TensorArray(dtype, size=num_bands, element_shape=[n, m, width, channels])

    def band_body(band, bands, tops):
      row0 = band * m
      x = levels = first
      for row in range(m):  # Unrolled: row r of the band needs only rows 0..r (causality).
        x, levels = self._sample_row(row0, row, x, levels, terms, tops, seed)
      _, new_tops = net.forward(x, net.slice_terms(terms, row0), training=False, tops=tops)
      return band + 1, bands.write(band, levels), new_tops

    _, bands, _ = tf.while_loop(lambda b, *_: b < num_bands, band_body,
                                (tf.constant(0), bands0, tops0))
    images = tf.transpose(bands.stack(), [1, 0, 2, 3, 4])
    return tf.reshape(images, [n, height, width, channels])

  def _sample_row(self, row0, row, x, levels, terms, tops, seed):
    """Draws row ``row`` of the band at ``row0``, pixel by pixel, on the band's rows 0..row."""
    net = self.network
    _, width, channels = net.image_shape
    m, dtype = net.band_height, x.dtype
    row_terms = net.slice_terms(terms, row0, row + 1)
    mask_shape = [1, m, width, 1]

    # The down stream of rows 0..row does not depend on row `row`: computed once per row.
    _, _, u_feed = net.forward_parts(x[:, :row + 1], row_terms, False, tops)

    def pixel_body(col, x, levels):
      params, _, _ = net.forward_parts(x[:, :row + 1], row_terms, False, tops, u_feed)
      pixel_seed = tf.random.experimental.stateless_fold_in(
          seed, (row0 + row) * width + col, alg="philox")
      drawn = dlm.sample(params[:, row, col], channels, net.num_logistic_mix, self.low,
                         self.high, pixel_seed)
      mask = tf.reshape(tf.one_hot(row * width + col, m * width, dtype=dtype), mask_shape)
      x = x + mask * dlm.scale_to_unit(drawn, self.low, self.high)[:, None, None, :]
      levels = levels + mask * drawn[:, None, None, :]
      return col + 1, x, levels

    _, x, levels = tf.while_loop(lambda col, *_: col < width, pixel_body,
                                 (tf.constant(0), x, levels))
    return x, levels
