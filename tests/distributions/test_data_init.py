"""Data-dependent initialisation of the weight-normalised layers (Salimans & Kingma 2016)."""
import numpy as np
import pytest
import tensorflow as tf

from tfib.distributions import PixelCNN
from tfib.distributions import shifted_convolutions as sc
from tfib.training.pixelcnn_training import PixelCNNTrainer

LAYERS = {
    "down": lambda: sc.DownShiftedConv2D(6, use_weight_norm=True, init_scale=0.5),
    "down_right_stride_2": lambda: sc.DownRightShiftedConv2D(6, strides=2, use_weight_norm=True,
                                                             init_scale=0.5),
    "nin": lambda: sc.NetworkInNetwork(6, use_weight_norm=True, init_scale=0.5),
    "transposed": lambda: sc.DownShiftedConv2DTranspose(6, use_weight_norm=True,
                                                        init_scale=0.5),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_outputs_have_mean_zero_and_std_init_scale_on_the_batch(kind):
  layer = LAYERS[kind]()
  x = tf.constant(3.0 * np.random.default_rng(0).normal(size=(8, 6, 6, 5)) + 2.0, tf.float32)
  layer.build(x.shape)
  layer.request_data_init()
  y = layer(x).numpy()
  np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
  np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 0.5, rtol=1e-4)
  np.testing.assert_allclose(layer(x).numpy(), y, rtol=1e-5, atol=1e-6)  # g, b are kept.


def test_bad_requests():
  with pytest.raises(ValueError, match="needs use_weight_norm"):
    sc.NetworkInNetwork(4).request_data_init()
  layer = sc.NetworkInNetwork(4, use_weight_norm=True)
  layer.build((None, 3))
  layer.request_data_init()
  with pytest.raises(RuntimeError, match="eagerly"):
    tf.function(layer)(tf.ones([2, 3]))
  with pytest.raises(ValueError, match="use_weight_norm=True"):
    PixelCNN((4, 4, 1), num_resnet=1, num_hierarchies=1, num_filters=4, num_logistic_mix=1,
             low=0, high=3).initialize_from_data(np.zeros([2, 4, 4, 1], np.float32))


def _pixelcnn():
  return PixelCNN((8, 8, 1), (4, 4, 2), num_resnet=1, num_hierarchies=2, num_filters=8,
                  num_logistic_mix=2, dropout_p=0.5, use_weight_norm=True, low=0, high=3)


def _batch(seed=1):
  rng = np.random.default_rng(seed)
  return (rng.integers(0, 4, (16, 8, 8, 1)).astype(np.float32),
          rng.normal(size=(16, 4, 4, 2)).astype(np.float32))


def _gains_and_biases(dist):
  return [w.numpy() for layer in dist.network.weight_normed_layers()
          for w in (layer.g, layer.bias)]


def test_network_initialisation_reaches_every_layer_and_is_a_fixed_point():
  dist = _pixelcnn()
  x, h = _batch()
  default = _gains_and_biases(dist)
  dist.initialize_from_data(x, h)
  once = _gains_and_biases(dist)
  assert all(not np.allclose(a, b) for a, b in zip(default[::2], once[::2]))  # Every gain.
  # Each layer already sees normalised outputs of the layers before it: a second pass on the
  # same batch changes nothing.
  dist.initialize_from_data(x, h)
  for a, b in zip(once, _gains_and_biases(dist)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  assert np.isfinite(dist.log_prob(x, conditional_input=h).numpy()).all()


def test_trainer_initialises_a_fresh_network_on_its_first_batch_only(tmp_path):
  x, h = _batch()
  reference = _pixelcnn()
  reference.network.set_weights(_pixelcnn().network.get_weights())
  dist = _pixelcnn()
  dist.network.set_weights(reference.network.get_weights())
  reference.initialize_from_data(x, h)
  trainer = PixelCNNTrainer(dist, learning_rate=0.0, checkpoint_dir=str(tmp_path))
  trainer.train_step(x, h)  # Adam with learning rate 0: only the initialisation moves.
  for ours, theirs, ema in zip(dist.network.get_weights(), reference.network.get_weights(),
                               trainer.ema_network.get_weights()):
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ema, ours, rtol=1e-5, atol=1e-6)
  trainer.save()
  after = _gains_and_biases(dist)
  other_x, other_h = _batch(seed=2)
  trainer.train_step(other_x, other_h)  # Not initialised again.
  for a, b in zip(after, _gains_and_biases(dist)):
    np.testing.assert_array_equal(a, b)
  resumed = PixelCNNTrainer(_pixelcnn(), learning_rate=0.0, checkpoint_dir=str(tmp_path))
  kept = _gains_and_biases(resumed.distribution)
  resumed.train_step(other_x, other_h)
  for a, b in zip(kept, _gains_and_biases(resumed.distribution)):
    np.testing.assert_array_equal(a, b)


def test_data_init_false_keeps_the_given_weights():
  x, h = _batch()
  dist = _pixelcnn()
  given = _gains_and_biases(dist)
  PixelCNNTrainer(dist, learning_rate=0.0, data_init=False).train_step(x, h)
  for a, b in zip(given, _gains_and_biases(dist)):
    np.testing.assert_array_equal(a, b)
