"""pretrain_conditioning: the conditioning network fitted as a factorized decoder of h."""
import keras
import numpy as np
import pytest

from tfib.data.mnist5k import mnist5k
from tfib.distributions import PixelCNN
from tfib.experiments.decoder_mi import decoder_view
from tfib.training.conditioning_pretraining import pretrain_conditioning

LEVELS = 4


@pytest.fixture(scope="module")
def images():
  """MNIST pooled to 7x7 at 4 grey levels: [2000, 7, 7, 1] levels 0..3."""
  return decoder_view(mnist5k()[0][:2000], downsample=4, levels=LEVELS)


def _decoder(conditional_shape):
  keras.utils.set_random_seed(0)
  return PixelCNN((8, 8, 1), conditional_shape, num_resnet=1, num_hierarchies=2,
                  num_filters=8, num_logistic_mix=2, dropout_p=0.0, conditioning_filters=8,
                  low=0, high=LEVELS - 1)


def _padded(images):
  """The images padded to 8x8 (levels stay levels), as the decoders here model."""
  return np.pad(images, ((0, 0), (0, 1), (0, 1), (0, 0)))


def _marginal_bits(images):
  """H(X_i) of each pixel's empirical marginal, averaged over pixels (a float64 formula)."""
  flat = images.reshape(len(images), -1).astype(int)
  total = 0.0
  for column in flat.T:
    p = np.bincount(column, minlength=LEVELS) / len(column)
    total -= np.sum(p[p > 0] * np.log2(p[p > 0]))
  return total / flat.shape[1]


def test_given_the_image_itself_every_pixel_becomes_nearly_certain(images):
  x = _padded(images)
  h = x / (LEVELS - 1)  # h = x: a factorized decoder can read each pixel off it.
  decoder = _decoder((8, 8, 1))
  bits = pretrain_conditioning(decoder, x, lambda index, split: h[index], steps=600,
                               learning_rate=1e-2)
  # Far below what the pixels' own marginals need: h says it all (the coarser level, whose
  # map averages h over 2x2 blocks, keeps the mean over the levels above 0).
  assert _marginal_bits(x) > 0.5
  assert bits < 0.3 * _marginal_bits(x)


def test_independent_noise_teaches_no_more_than_the_marginals(images):
  x = _padded(images)
  noise = np.random.default_rng(0).normal(size=(len(x), 4, 4, 3)).astype(np.float32)
  decoder = _decoder((4, 4, 3))
  bits = pretrain_conditioning(decoder, x, lambda index, split: noise[index], steps=600,
                               learning_rate=1e-2)
  # Each pixel's own marginal is the best a decoder can do without information on it
  # (less the plug-in estimate's small downward bias and the fit to the training batches).
  assert bits > _marginal_bits(x) - 0.05


def test_only_the_conditioning_network_changes_and_the_result_is_repeatable(images):
  x = _padded(images)
  h = x / (LEVELS - 1)
  results = []
  for _ in range(2):
    decoder = _decoder((8, 8, 1))
    before = {v.path: v.numpy() for v in decoder.network.variables}
    pretrain_conditioning(decoder, x, lambda index, split: h[index], steps=20, seed=3)
    after = {v.path: v.numpy() for v in decoder.network.variables}
    changed = {path for path in before if not np.array_equal(before[path], after[path])}
    assert changed and all("/conditioning/" in path for path in changed)
    prefix = decoder.network.path + "/"  # Keras numbers the instances.
    results.append({path[len(prefix):]: after[path] for path in changed})
  # The same initial network, data, seed and steps give the same reader.
  first, second = results
  assert first.keys() == second.keys()
  assert all(np.array_equal(first[path], second[path]) for path in first)


def test_what_it_cannot_pretrain_is_refused(images):
  with pytest.raises(ValueError, match="conditioned on a feature map"):
    pretrain_conditioning(_decoder((10,)), _padded(images), lambda i, s: None)
  with pytest.raises(ValueError, match="conditioned on a feature map"):
    pretrain_conditioning(_decoder(None), _padded(images), lambda i, s: None)
  assert pretrain_conditioning(_decoder((8, 8, 1)), _padded(images), lambda i, s: None,
                               steps=0) is None
