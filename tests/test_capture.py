import keras
import numpy as np
import pytest

from tfib.layers import Capture, activation_model, captured_layer_names


def _model():
  inputs = keras.Input((4,))
  h = keras.layers.Dense(3, activation="tanh", name="first")(inputs)
  h = Capture(name="h1")(h)
  h = Capture(name="h2")(keras.layers.Dense(2, activation="relu")(h))
  return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(h))


def test_capture_layers_are_found_and_returned_in_one_pass():
  model = _model()
  assert captured_layer_names(model) == ["h1", "h2"]
  x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
  h1, h2 = activation_model(model)(x)
  dense = model.get_layer("first")
  np.testing.assert_allclose(h1, np.tanh(x @ dense.kernel.numpy() + dense.bias.numpy()),
                             rtol=1e-5, atol=1e-6)
  assert h2.shape == (5, 2)


def test_existing_layers_can_be_named_instead():
  (out,) = activation_model(_model(), ["out"])(np.zeros((2, 4), np.float32)),
  np.testing.assert_allclose(np.sum(out, axis=1), 1.0, rtol=1e-6)


def test_keras_round_trip_and_training(tmp_path):
  model = _model()
  model.compile("adam", "sparse_categorical_crossentropy")
  x = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)
  model.fit(x, (x[:, 0] > 0).astype(int), epochs=2, verbose=0)
  path = str(tmp_path / "model.keras")
  model.save(path)
  loaded = keras.models.load_model(path)
  assert captured_layer_names(loaded) == ["h1", "h2"]
  np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_unknown_names_and_models_without_capture():
  with pytest.raises(ValueError, match="no layer named 'h7'.*its layers are"):
    activation_model(_model(), ["h7"])
  inputs = keras.Input((2,))
  plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
  with pytest.raises(ValueError, match="no Capture layer"):
    activation_model(plain)
