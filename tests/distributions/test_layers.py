"""Shifted convolutions, the gated block and the network as Keras 3 layers."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib.distributions import discretized_logistic_mixture as dlm
from tfib.distributions import shifted_convolutions as sc
from tfib.distributions.conditioning import ConditioningNetwork, resampling_matrix
from tfib.distributions.gated_resnet import GatedResidualBlock
from tfib.distributions.pixelcnn_network import PixelCNNNetwork


def receptive_field(fn, shape, out_index):
  x = tf.random.normal(shape)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(x)
    target = tf.reduce_sum(y[(0, *out_index)])
  return np.abs(tape.gradient(target, x).numpy()).sum(axis=(0, 3)) > 0


@pytest.mark.parametrize("use_weight_norm", [False, True])
def test_shifted_convolutions_look_only_up_and_left(use_weight_norm):
  down = sc.DownShiftedConv2D(4, (2, 3), use_weight_norm=use_weight_norm)
  field = receptive_field(down, [1, 6, 6, 2], (3, 3))
  assert field[2:4, 2:5].all() and field.sum() == 6  # Rows r-1..r, columns c-1..c+1.
  right = sc.DownRightShiftedConv2D(4, (2, 2), use_weight_norm=use_weight_norm)
  field = receptive_field(right, [1, 6, 6, 2], (3, 3))
  assert field[2:4, 2:4].all() and field.sum() == 4
  field = receptive_field(lambda x: sc.down_shift(x), [1, 6, 6, 2], (3, 3))
  assert field[2, 3] and field.sum() == 1
  field = receptive_field(lambda x: sc.right_shift(x), [1, 6, 6, 2], (3, 3))
  assert field[3, 2] and field.sum() == 1


def test_strided_and_transposed_shapes_and_alignment():
  x = tf.random.normal([2, 8, 6, 3])
  assert sc.DownShiftedConv2D(5, strides=2)(x).shape == (2, 4, 3, 5)
  assert sc.DownRightShiftedConv2D(5, strides=2)(x).shape == (2, 4, 3, 5)
  up = sc.DownRightShiftedConv2DTranspose(4)
  assert up(x).shape == (2, 16, 12, 4)
  # Fine (2i + a, 2j + b) comes from coarse (i, j) only.
  field = receptive_field(up, [1, 4, 4, 3], (5, 3))
  assert field[2, 1] and field.sum() == 1
  field = receptive_field(sc.DownShiftedConv2DTranspose(4), [1, 4, 4, 3], (5, 3))
  assert field[2, 1] and field[2, 2] and field.sum() == 2


def test_weight_norm_kernel_has_the_gain_as_norm():
  conv = sc.DownShiftedConv2D(4, use_weight_norm=True, init_scale=0.25)
  conv.build((None, None, None, 3))
  kernel = conv._effective_kernel().numpy()  # pylint: disable=protected-access
  np.testing.assert_allclose(np.sqrt((kernel ** 2).sum(axis=(0, 1, 2))), 0.5, rtol=1e-5)


def test_resampling_matrix():
  np.testing.assert_array_equal(resampling_matrix(5, 5), np.eye(5))
  for n_in, n_out in [(8, 28), (28, 7), (3, 8), (8, 1)]:
    r = resampling_matrix(n_in, n_out)
    assert r.shape == (n_out, n_in) and (r >= 0).all()
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-6)
  # Shrinking by 2 averages neighbours symmetrically (antialiasing), not one tap.
  row = resampling_matrix(8, 4)[1]
  np.testing.assert_allclose(row[2:4], row[2], rtol=1e-6)
  assert row[1] == pytest.approx(row[4]) and 0 < row[1] < row[2]


def test_conditioning_network_shapes():
  net = ConditioningNetwork((5, 3, 2), [(8, 8), (4, 4)], filters=6)
  maps = net(tf.zeros([2, 5, 3, 2]))
  assert [m.shape for m in maps] == [(2, 8, 8, 6), (2, 4, 4, 6)]
  vec = ConditioningNetwork((7,), [(8, 8), (4, 4)])
  assert [m.shape for m in vec(tf.zeros([2, 7]))] == [(2, 1, 1, 7)] * 2
  with pytest.raises(ValueError, match="global vector"):
    ConditioningNetwork((2, 3), [(8, 8)])


def _round_trip(model, inputs, tmp_path):
  path = os.path.join(tmp_path, "model.keras")
  model.save(path)
  loaded = keras.saving.load_model(path, compile=False)
  np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-5, atol=1e-5)
  return loaded


def test_layers_save_load_and_fit(tmp_path):
  inputs = keras.Input((8, 8, 3))
  x = sc.DownShiftedConv2D(6, use_weight_norm=True)(inputs)
  x = GatedResidualBlock(6, "down", dropout_p=0.2)(x)
  x = sc.DownRightShiftedConv2D(6, strides=2)(x)
  x = sc.DownRightShiftedConv2DTranspose(6)(x)
  x = sc.DownShiftedConv2D(6, strides=2)(x)
  x = sc.DownShiftedConv2DTranspose(6)(x)
  outputs = sc.NetworkInNetwork(2)(x)
  model = keras.Model(inputs, outputs)
  model.compile("adam", "mse")
  data = np.random.default_rng(0).normal(size=(16, 8, 8, 3)).astype(np.float32)
  history = model.fit(data, data[..., :2], epochs=2, batch_size=8, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  _round_trip(model, data[:2], tmp_path)


@pytest.mark.parametrize("conditional_shape", [None, (5,), (3, 3, 2)])
def test_network_save_load_and_fit(tmp_path, conditional_shape):
  net = PixelCNNNetwork((4, 4, 3), conditional_shape, num_resnet=1, num_hierarchies=2,
                        num_filters=4, num_logistic_mix=2, dropout_p=0.1,
                        use_weight_norm=conditional_shape is None, conditioning_filters=3)
  image = keras.Input((4, 4, 3))
  inputs = image if conditional_shape is None else [image, keras.Input(conditional_shape)]
  model = keras.Model(inputs, net(inputs))
  rng = np.random.default_rng(0)
  levels = rng.integers(0, 4, (8, 4, 4, 3)).astype(np.float32)
  x = dlm.scale_to_unit(levels, 0, 3)
  data = x if conditional_shape is None else [x, rng.normal(size=(8, *conditional_shape))]

  def nll(y_true, params):
    return -dlm.log_prob(y_true, params, 3, 2, 0, 3)

  model.compile("adam", nll)
  history = model.fit(data, levels, epochs=2, batch_size=4, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  assert PixelCNNNetwork.from_config(net.get_config()).get_config() == net.get_config()
  _round_trip(model, data, tmp_path)
