import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib.layers import FakeQuant, QuantizedConv2D, QuantizedDense, fake_quantize


def _numpy_fake_quantize(x, low, high, bits):
  step = (high - low) / (2 ** bits - 1)
  return low + np.round((np.clip(x, low, high) - low) / step) * step


@pytest.mark.parametrize("bits", [4, 8])
def test_matches_the_float64_formula_and_uses_at_most_2_to_the_bits_levels(bits):
  x = np.random.default_rng(bits).normal(size=5000).astype(np.float32)
  q = fake_quantize(tf.constant(x), -1.5, 2.0, bits).numpy()
  np.testing.assert_allclose(q, _numpy_fake_quantize(x.astype(np.float64), -1.5, 2.0, bits),
                             atol=1e-5)
  assert len(np.unique(q)) <= 2 ** bits


def test_straight_through_gradient_is_one_inside_zero_outside():
  x = tf.constant([-3.0, -0.5, 0.2, 0.9, 4.0])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = tf.reduce_sum(fake_quantize(x, -1.0, 1.0, 4))
  np.testing.assert_array_equal(tape.gradient(y, x), [0, 1, 1, 1, 0])


def test_32_bits_is_the_identity():
  x = tf.random.normal((10,))
  np.testing.assert_array_equal(FakeQuant(32)(x), x)


def test_moving_average_range_is_learned_in_training_and_frozen_at_inference():
  layer = FakeQuant(8, range_mode="moving_average", momentum=0.5)
  layer(tf.constant([[0.0, 2.0]]), training=True)  # First batch sets the range: [0, 2].
  layer(tf.constant([[0.0, 4.0]]), training=True)  # 0.5 · 2 + 0.5 · 4 = 3.
  assert float(layer.moving_max) == pytest.approx(3.0)
  out = layer(tf.constant([[10.0, 1.0]]), training=False).numpy()
  assert out[0, 0] == pytest.approx(3.0)  # Clipped at the frozen maximum.
  assert float(layer.moving_max) == pytest.approx(3.0)


def test_an_untrained_moving_average_layer_uses_the_batch_range():
  x = tf.constant(np.linspace(-1, 1, 100, dtype=np.float32))
  out = FakeQuant(4, range_mode="moving_average")(x, training=False).numpy()
  assert len(np.unique(out)) == 16 and out.min() == -1 and out.max() == 1


def test_batch_range_quantizes_each_batch_over_its_own_min_and_max():
  x = tf.constant(np.linspace(0.09, 0.11, 50, dtype=np.float32))
  out = FakeQuant(4, range_mode="batch")(x).numpy()
  assert len(np.unique(out)) == 16  # No collapse onto one level.


def test_quantized_dense_computes_with_a_quantized_kernel():
  layer = QuantizedDense(3, bits=4)
  x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
  y = layer(x).numpy()
  kernel = layer.kernel.numpy().astype(np.float64)
  expected = x @ _numpy_fake_quantize(kernel, kernel.min(), kernel.max(), 4) + layer.bias.numpy()
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_layers_round_trip_and_train(tmp_path):
  inputs = keras.Input((6, 6, 1))
  h = QuantizedConv2D(2, 3, bits=8, activation="relu")(inputs)
  h = FakeQuant(8, name="h1")(keras.layers.Flatten()(h))
  outputs = FakeQuant(4, range_mode="batch")(QuantizedDense(2, bits=8, activation="softmax")(h))
  model = keras.Model(inputs, outputs)
  model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
  x = np.random.default_rng(1).normal(size=(64, 6, 6, 1)).astype(np.float32)
  y = (x.mean(axis=(1, 2, 3)) > 0).astype(int)
  history = model.fit(x, y, epochs=15, verbose=0)
  assert history.history["loss"][-1] < history.history["loss"][0]
  path = str(tmp_path / "quantized.keras")
  model.save(path)
  np.testing.assert_allclose(keras.models.load_model(path)(x), model(x), atol=1e-6)


@pytest.mark.parametrize("bits", [0, 2, 16, 64])
def test_unsupported_bits(bits):
  with pytest.raises(ValueError, match="bits must be one of"):
    FakeQuant(bits)
