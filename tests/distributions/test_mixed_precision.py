"""Mixed bfloat16 PixelCNN++: float32 weights and likelihood, bfloat16 streams."""
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib.distributions import PixelCNN
from tfib.training.decoder_fit import network_weights, warm_start
from tfib.training.pixelcnn_training import PixelCNNTrainer

MIXED = "mixed_bfloat16"


def _pair(conditional_shape, **config):
  """A float32 PixelCNN and a mixed one with the same weights."""
  exact = PixelCNN(conditional_shape=conditional_shape, **config)
  mixed = PixelCNN(conditional_shape=conditional_shape, dtype_policy=MIXED, **config)
  warm_start(mixed, network_weights(exact))
  return exact, mixed


@pytest.mark.parametrize("conditional_shape", [None, (1, 2, 2)])
def test_likelihood_still_sums_to_one(conditional_shape, tiny):
  # The mixture likelihood is evaluated in float32 whatever precision made its parameters.
  dist = PixelCNN((2, 2, 1), conditional_shape, low=0, high=3, dtype_policy=MIXED, **tiny)
  images = np.array(list(itertools.product(range(4), repeat=4)), np.float32).reshape(-1, 2, 2, 1)
  h = None
  if conditional_shape is not None:
    h = np.random.default_rng(0).normal(size=conditional_shape).astype(np.float32)
    h = np.broadcast_to(h, (len(images), *conditional_shape))
  logp = dist.log_prob(images, conditional_input=h)
  assert logp.dtype == tf.float32
  assert np.exp(logp.numpy().astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)


def test_weights_stay_float32_and_streams_run_in_bfloat16():
  _, mixed = _pair((4, 4, 3), image_shape=(8, 8, 1), num_resnet=1, num_hierarchies=2,
                   num_filters=8, num_logistic_mix=2, dropout_p=0.0, low=0, high=15)
  net = mixed.network
  assert {v.dtype for v in net.weights} == {"float32"}
  assert net.compute_dtype == "bfloat16"
  x = tf.zeros([2, 8, 8, 1])
  h = tf.zeros([2, 4, 4, 3])
  params, recorded = net.forward(x, net.condition(h))
  assert params.dtype == tf.float32
  assert {r.dtype for r in recorded} == {tf.bfloat16}


def test_same_weights_give_nearly_the_float32_likelihood():
  exact, mixed = _pair((4, 4, 3), image_shape=(8, 8, 1), num_resnet=1, num_hierarchies=2,
                       num_filters=16, num_logistic_mix=3, dropout_p=0.0, low=0, high=15)
  rng = np.random.default_rng(0)
  images = rng.integers(0, 16, (16, 8, 8, 1)).astype(np.float32)
  h = rng.normal(size=(16, 4, 4, 3)).astype(np.float32)
  to_bits = 1.0 / (64 * np.log(2.0))
  reference = -exact.log_prob(images, conditional_input=h).numpy() * to_bits
  approximate = -mixed.log_prob(images, conditional_input=h).numpy() * to_bits
  # bfloat16 keeps 8 significant bits (relative error 2^-9 per rounding): per image the
  # likelihood moves by a few thousandths of a bit per dimension, not more.
  np.testing.assert_allclose(approximate, reference, atol=0.01)
  assert not np.array_equal(approximate, reference)  # It did compute in bfloat16.


@pytest.mark.parametrize("jit", [False, True])
def test_trains(jit, tiny):
  keras.utils.set_random_seed(0)
  rng = np.random.default_rng(1)
  images = rng.integers(0, 8, (16, 4, 4, 1)).astype(np.float32)
  images[:, :, :2] = 0  # Structure to learn: the left half is black.
  h = rng.normal(size=(16, 3)).astype(np.float32)
  dist = PixelCNN((4, 4, 1), (3,), low=0, high=7, dtype_policy=MIXED, **tiny)
  trainer = PixelCNNTrainer(dist, learning_rate=1e-2, jit_compile=jit)
  assert trainer.ema_network.dtype_policy.name == MIXED
  losses = [float(trainer.train_step(images, h)) for _ in range(40)]
  assert np.all(np.isfinite(losses))
  assert np.mean(losses[-5:]) < losses[0] - 0.2, losses


def test_samples_are_levels(tiny):
  h = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
  dist = PixelCNN((4, 4, 1), (3,), low=0, high=7, dtype_policy=MIXED,
                  jit_compile_sampling=False, **tiny)
  samples = dist.sample(4, conditional_input=h, seed=[3, 4]).numpy()
  assert samples.dtype == np.float32 and samples.shape == (4, 4, 4, 1)
  assert samples.min() >= 0 and samples.max() <= 7 and np.all(samples == np.round(samples))


def test_float16_is_refused(tiny):
  with pytest.raises(ValueError, match="loss scaling"):
    PixelCNN((4, 4, 1), dtype_policy="mixed_float16", **tiny)
