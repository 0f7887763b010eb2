"""The PixelCNN distribution: normalisation, causality, band evaluation, sampling, errors."""
import itertools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfib.distributions import PixelCNN
from tfib.distributions import discretized_logistic_mixture as dlm


@pytest.mark.parametrize("conditional_shape", [None, (3,), (1, 2, 2)])
def test_likelihood_sums_to_one_over_all_images(conditional_shape, tiny):
  dist = PixelCNN((2, 2, 1), conditional_shape, low=0, high=3, **tiny)
  images = np.array(list(itertools.product(range(4), repeat=4)), np.float32).reshape(-1, 2, 2, 1)
  h = None
  if conditional_shape is not None:
    h = np.random.default_rng(0).normal(size=conditional_shape).astype(np.float32)
    h = np.broadcast_to(h, (len(images), *conditional_shape))
  logp = dist.log_prob(images, conditional_input=h).numpy().astype(np.float64)
  assert logp.shape == (256,)
  assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-5)


def test_likelihood_sums_to_one_with_coupled_channels():
  dist = PixelCNN((1, 2, 2), low=0, high=2, num_resnet=1, num_hierarchies=1, num_filters=4,
                  num_logistic_mix=2, dropout_p=0.0)
  images = np.array(list(itertools.product(range(3), repeat=4)), np.float32).reshape(-1, 1, 2, 2)
  assert np.exp(dist.log_prob(images).numpy().astype(np.float64)).sum() == pytest.approx(
      1.0, abs=1e-5)


def test_autoregressive_gradients_and_later_pixels():
  dist = PixelCNN((8, 8, 3), num_resnet=1, num_hierarchies=3, num_filters=8,
                  num_logistic_mix=2, dropout_p=0.0, low=0, high=7)
  net = dist.network
  x = tf.random.uniform([1, 8, 8, 3], -1, 1)
  for r, c in [(0, 0), (3, 4), (5, 0), (7, 7)]:
    with tf.GradientTape() as tape:
      tape.watch(x)
      out = tf.reduce_sum(net(x)[0, r, c])
    grad = np.abs(tape.gradient(out, x).numpy()[0]).sum(axis=-1)
    order = np.arange(64).reshape(8, 8)
    assert not grad[order >= r * 8 + c].any(), (r, c)  # Nothing at or after pixel i.
    assert grad[order < r * 8 + c].any() or (r, c) == (0, 0)
  # Log-probabilities of pixels before i are unchanged when pixels from i on change.
  rng = np.random.default_rng(0)
  images = rng.integers(0, 8, (2, 8, 8, 3)).astype(np.float32)
  changed = images.copy()
  changed.reshape(2, 64, 3)[:, 30:] = rng.integers(0, 8, (2, 34, 3))
  before = dist.pixel_log_probs(images).numpy().reshape(2, 64)
  after = dist.pixel_log_probs(changed).numpy().reshape(2, 64)
  np.testing.assert_allclose(before[:, :30], after[:, :30], rtol=1e-5, atol=1e-5)
  assert not np.allclose(before[:, 30:], after[:, 30:])


@pytest.mark.parametrize("conditional_shape", [None, (4, 4, 2)])
def test_band_evaluation_equals_full_network(conditional_shape):
  dist = PixelCNN((8, 12, 2), conditional_shape, num_resnet=1, num_hierarchies=3,
                  num_filters=8, num_logistic_mix=2, dropout_p=0.0)
  net = dist.network
  x = tf.random.uniform([2, 8, 12, 2], -1, 1)
  terms = None if conditional_shape is None else net.condition(
      tf.random.normal([2, *conditional_shape]))
  full, _ = net.forward(x, terms)
  m, tops = net.band_height, None
  for row0 in range(0, 8, m):
    for height in range(1, m + 1):  # Bands cut short at the bottom are exact too.
      short, _ = net.forward(x[:, row0:row0 + height], net.slice_terms(terms, row0, height),
                             tops=tops)
      np.testing.assert_allclose(short, full[:, row0:row0 + height], rtol=1e-4, atol=1e-5)
      # Reusing the down stream (as the sampler does within a row) changes nothing either.
      band_x, band_terms = x[:, row0:row0 + height], net.slice_terms(terms, row0, height)
      _, _, u_feed = net.forward_parts(band_x, band_terms, tops=tops)
      fed, _, _ = net.forward_parts(band_x, band_terms, tops=tops, u_feed=u_feed)
      np.testing.assert_allclose(fed, short, rtol=1e-5, atol=1e-6)
    _, tops = net.forward(x[:, row0:row0 + m], net.slice_terms(terms, row0), tops=tops)


def naive_samples(dist, n, h, seed, jit):
  """Pixel by pixel with the full network: the definition the band sampler must reproduce."""
  net, (height, width, channels) = dist.network, dist.image_shape
  terms = None if h is None else net.condition(h)

  def draw(x, r, c):
    params, _ = net.forward(x, terms)
    s = tf.random.experimental.stateless_fold_in(seed, r * width + c, alg="philox")
    return dlm.sample(params[:, r, c], channels, net.num_logistic_mix, dist.low, dist.high, s)

  draw = tf.function(draw, jit_compile=jit)
  x = np.zeros([n, height, width, channels], np.float32)
  levels = np.zeros_like(x)
  for r in range(height):
    for c in range(width):
      drawn = draw(tf.constant(x), tf.constant(r), tf.constant(c)).numpy()
      levels[:, r, c] = drawn
      x[:, r, c] = dlm.scale_to_unit(drawn, dist.low, dist.high)
  return levels


@pytest.mark.parametrize("conditional_shape,jit", [((2, 2, 3), False), (None, True)])
def test_band_sampler_reproduces_pixel_by_pixel_sampling(conditional_shape, jit, tiny):
  dist = PixelCNN((4, 4, 2), conditional_shape, low=0, high=5, jit_compile_sampling=jit,
                  **tiny)
  h = None if conditional_shape is None else tf.random.normal([2, *conditional_shape])
  seed = tf.constant([7, 11])
  samples = dist.sample(2, seed=seed, conditional_input=h).numpy()
  assert samples.shape == (2, 4, 4, 2)
  np.testing.assert_array_equal(samples, naive_samples(dist, 2, h, seed, jit))
  np.testing.assert_array_equal(samples, dist.sample(2, seed=seed, conditional_input=h))


def test_batch_shapes_broadcast(tiny):
  dist = PixelCNN((2, 2, 1), (3,), low=0, high=3, **tiny)
  rng = np.random.default_rng(0)
  images = rng.integers(0, 4, (4, 1, 2, 2, 1)).astype(np.float32)
  h = rng.normal(size=(5, 3)).astype(np.float32)
  logp = dist.log_prob(images, conditional_input=h)
  assert logp.shape == (4, 5)
  np.testing.assert_allclose(logp[2, 3], dist.log_prob(images[2, 0], conditional_input=h[3]),
                             rtol=1e-5)
  assert dist.bits_per_dim(images[:, 0], conditional_input=h[:4]).shape == (4,)
  assert dist.event_shape == (2, 2, 1) and dist.batch_shape == ()
  assert isinstance(dist, tfp.distributions.Distribution)


def test_sample_tiles_conditional_inputs(tiny):
  dist = PixelCNN((2, 2, 1), (3,), low=0, high=3, jit_compile_sampling=False, **tiny)
  assert dist.sample(4, seed=1, conditional_input=tf.zeros([2, 3])).shape == (4, 2, 2, 1)
  assert dist.sample(3, seed=1, conditional_input=tf.zeros([3])).shape == (3, 2, 2, 1)
  with pytest.raises(ValueError, match="multiple of the number of conditional inputs"):
    dist.sample(3, seed=1, conditional_input=tf.zeros([2, 3]))


class TestBadInput:

  @pytest.fixture(scope="class")
  def dist(self, tiny):
    return PixelCNN((4, 4, 1), (2, 2, 3), low=0, high=15, **tiny)

  @pytest.fixture(scope="class")
  def h(self):
    return np.zeros([2, 2, 2, 3], np.float32)

  def test_values_outside_the_range(self, dist, h):
    with pytest.raises(ValueError, match=r"must lie in \[0, 15\], got values in \[16.0, 16.0\]"):
      dist.log_prob(np.full([2, 4, 4, 1], 16.0, np.float32), conditional_input=h)
    with pytest.raises(ValueError, match=r"must lie in \[0, 15\]"):
      dist.log_prob(np.full([2, 4, 4, 1], -1.0, np.float32), conditional_input=h)

  def test_non_integer_values(self, dist, h):
    with pytest.raises(ValueError, match="must be integers"):
      dist.log_prob(np.full([2, 4, 4, 1], 0.5, np.float32), conditional_input=h)

  def test_values_checked_inside_tf_function(self, dist, h):
    fn = tf.function(lambda x: dist.log_prob(x, conditional_input=h))
    with pytest.raises(tf.errors.InvalidArgumentError, match="pixel values above 15"):
      fn(tf.fill([2, 4, 4, 1], 99.0))

  def test_wrong_image_shape(self, dist, h):
    with pytest.raises(ValueError, match=r"images must have shape \[\.\.\., 4, 4, 1\]"):
      dist.log_prob(np.zeros([2, 4, 4, 3], np.float32), conditional_input=h)

  def test_conditional_input_missing_wrong_rank_or_shape(self, dist, h, tiny):
    images = np.zeros([2, 4, 4, 1], np.float32)
    with pytest.raises(ValueError, match="conditional: give conditional_input"):
      dist.log_prob(images)
    with pytest.raises(ValueError, match=r"feature map of shape \[\.\.\., 2, 2, 3\].*rank 2"):
      dist.log_prob(images, conditional_input=np.zeros([2, 12], np.float32))
    with pytest.raises(ValueError, match=r"feature map of shape \[\.\.\., 2, 2, 3\]"):
      dist.log_prob(images, conditional_input=np.zeros([2, 3, 3, 3], np.float32))
    with pytest.raises(ValueError, match="conditional: give"):
      dist.sample(2, seed=1)
    with pytest.raises(ValueError, match="global vector"):
      PixelCNN((4, 4, 1), (6,), low=0, high=15, **tiny).log_prob(
          images, conditional_input=np.zeros([2, 5], np.float32))

  def test_conditional_input_to_unconditional(self, h, tiny):
    dist = PixelCNN((4, 4, 1), low=0, high=15, **tiny)
    with pytest.raises(ValueError, match="unconditional; conditional_input must be None"):
      dist.log_prob(np.zeros([2, 4, 4, 1], np.float32), conditional_input=h)

  @pytest.mark.parametrize("shape,levels", [((30, 30, 1), 3), ((28, 28, 1), 4), ((6, 5, 1), 2)])
  def test_sizes_the_hierarchy_cannot_halve(self, shape, levels):
    with pytest.raises(ValueError, match="cannot be halved.*multiples of"):
      PixelCNN(shape, num_hierarchies=levels, num_filters=4)

  def test_sizes_that_work(self):
    for shape, levels in [((28, 28, 1), 3), ((32, 32, 3), 3), ((6, 5, 1), 1), ((12, 20, 2), 3)]:
      PixelCNN(shape, num_hierarchies=levels, num_resnet=1, num_filters=4)

  def test_bad_levels(self, tiny):
    with pytest.raises(ValueError, match="low < high"):
      PixelCNN((4, 4, 1), low=3, high=3, **tiny)
