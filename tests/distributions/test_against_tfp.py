"""tfib's PixelCNN against tfd.PixelCNN of the same configuration, trained alike on mnist5k."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfib.distributions import PixelCNN
from tfib.distributions import discretized_logistic_mixture as dlm
from tfib.training.pixelcnn_training import PixelCNNTrainer

CONFIG = dict(num_resnet=1, num_hierarchies=2, num_filters=16, num_logistic_mix=3,
              dropout_p=0.0, use_weight_norm=False, low=0, high=15)
STEPS, BATCH = 120, 16


@pytest.fixture(scope="module")
def data(mnist5k):
  """mnist5k pooled to 14x14, 16 levels, one-hot labels: train (4000) and held-out (400)."""
  images, labels = mnist5k
  pooled = images.reshape(-1, 14, 2, 14, 2, 1).mean(axis=(2, 4))
  levels = np.round(pooled / 255.0 * 15.0).astype(np.float32)
  onehot = np.eye(10, dtype=np.float32)[labels]
  return (levels[:4000], onehot[:4000]), (levels[4000:4400], onehot[4000:4400])


def train_tfp(dist, images, h, batches):
  optimizer = tf_keras.optimizers.Adam(3e-3)
  variables = dist.network.trainable_variables

  @tf.function
  def step(x, c):
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(dist.log_prob(x, conditional_input=c, training=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

  for index in batches:
    step(images[index], None if h is None else h[index])


def bits_per_dim(log_prob):
  return float(-np.mean(log_prob) / (14 * 14 * np.log(2.0)))


@pytest.mark.parametrize("conditional", [False, True])
def test_same_terms_and_comparable_bits_per_dim(data, conditional):
  (train_x, train_h), (test_x, test_h) = data
  if not conditional:
    train_h = test_h = None
  shape = (10,) if conditional else None
  ours = PixelCNN((14, 14, 1), shape, **CONFIG)
  theirs = tfp.distributions.PixelCNN((14, 14, 1), shape, **CONFIG)

  # Same likelihood terms: one joint term per pixel, H*W of them per image, summed.
  x = test_x[:4]
  params = theirs.network(dlm.scale_to_unit(x, 0, 15) if not conditional
                          else [dlm.scale_to_unit(x, 0, 15), test_h[:4]])
  their_terms = theirs._make_mixture_dist(*params[:3])  # pylint: disable=protected-access
  h4 = None if test_h is None else test_h[:4]
  assert their_terms.distribution.batch_shape == ours.pixel_log_probs(x, h4).shape == (4, 14, 14)
  assert theirs.log_prob(x, conditional_input=h4).shape == ours.log_prob(
      x, conditional_input=h4).shape == (4,)

  rng = np.random.default_rng(0)
  batches = [rng.integers(0, len(train_x), BATCH) for _ in range(STEPS)]
  trainer = PixelCNNTrainer(ours, learning_rate=3e-3)
  start = bits_per_dim(ours.log_prob(test_x, conditional_input=test_h))
  for index in batches:
    trainer.train_step(train_x[index], None if train_h is None else train_h[index])
  train_tfp(theirs, train_x, train_h, batches)
  ours_bits = bits_per_dim(ours.log_prob(test_x, conditional_input=test_h))
  their_bits = bits_per_dim(theirs.log_prob(test_x, conditional_input=test_h, training=False))
  print(f"bits/dim after {STEPS} steps (conditional={conditional}): tfib {ours_bits:.3f}, "
        f"tfd.PixelCNN {their_bits:.3f} (tfib at start {start:.3f})")
  assert ours_bits < 0.6 * start
  assert abs(ours_bits - their_bits) < 0.2 * their_bits
