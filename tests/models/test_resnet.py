"""The ResNet classifier and autoencoder: shapes, Capture points, .keras round trip, fit."""
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib import data, models
from tfib.layers import activation_model, captured_layer_names
from tfib.models import resnet_autoencoder, resnet_classifier
from tfib.models.resnet import DEPTHS, stage_blocks

SHAPES = [(32, 32, 3), (28, 28, 1)]
STAGE_SIZES = {(32, 32, 3): (32, 16, 8, 4), (28, 28, 1): (28, 14, 7, 4)}


def _images(shape, n=3, seed=0):
  return np.random.default_rng(seed).random((n,) + shape).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES)
def test_classifier_has_four_capture_points_at_the_stages(shape):
  model = resnet_classifier(shape, num_classes=7, width=2, blocks_per_stage=1)
  assert captured_layer_names(model) == ["h1", "h2", "h3", "h4"]
  x = _images(shape)
  assert model(x).shape == (3, 7)
  activations = activation_model(model)(x)
  for stage, (h, size) in enumerate(zip(activations, STAGE_SIZES[shape])):
    assert h.shape == (3, size, size, 2 * 2 ** stage)


@pytest.mark.parametrize("shape", SHAPES)
def test_autoencoder_mirrors_the_encoder_back_to_the_image(shape):
  model = resnet_autoencoder(shape, width=2, blocks_per_stage=1)
  assert captured_layer_names(model) == ["h1", "h2", "h3", "h4"]
  x = _images(shape)
  reconstruction = np.asarray(model(x))
  assert reconstruction.shape == x.shape
  assert reconstruction.min() >= 0 and reconstruction.max() <= 1
  assert [h.shape[1] for h in activation_model(model)(x)] == list(STAGE_SIZES[shape])


def test_depth_counts_the_blocks_and_the_initialisation_follows_the_seed():
  assert stage_blocks(18) == (2, 2, 2, 2) and stage_blocks(34) == (3, 4, 6, 3)
  assert stage_blocks(10, blocks_per_stage=3) == (3, 3, 3, 3)
  deep = resnet_classifier((32, 32, 3), width=2, depth=34)
  shallow = resnet_classifier((32, 32, 3), width=2, depth=10)
  assert deep.name.startswith("resnet34") and shallow.name.startswith("resnet10")
  assert deep.count_params() > shallow.count_params()
  x = _images((28, 28, 1))
  same = [resnet_classifier((28, 28, 1), width=2, depth=10, seed=3)(x) for _ in range(2)]
  other = resnet_classifier((28, 28, 1), width=2, depth=10, seed=4)(x)
  np.testing.assert_array_equal(same[0], same[1])
  assert not np.allclose(same[0], other)


@pytest.mark.parametrize("builder", ["classifier", "autoencoder"])
def test_keras_round_trip_and_fit(tmp_path, builder):
  shape = (28, 28, 1)
  x = _images(shape, n=16)
  if builder == "classifier":
    model = resnet_classifier(shape, width=2, depth=10)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    y = np.arange(16) % 10
  else:
    model = resnet_autoencoder(shape, width=2, depth=10)
    model.compile("adam", "mse")
    y = x
  history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  path = str(tmp_path / "model.keras")
  model.save(path)
  loaded = keras.saving.load_model(path, compile=False)
  assert captured_layer_names(loaded) == ["h1", "h2", "h3", "h4"]
  np.testing.assert_allclose(loaded(x, training=False), model(x, training=False),
                             rtol=1e-5, atol=1e-6)
  for ours, theirs in zip(activation_model(loaded)(x), activation_model(model)(x)):
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_bad_arguments_say_what_is_accepted():
  with pytest.raises(ValueError, match="at least 8x8"):
    resnet_classifier((4, 4, 1))
  with pytest.raises(ValueError, match=r"images \[H, W, C\]"):
    resnet_autoencoder((784,))
  with pytest.raises(ValueError, match=re.escape(f"choose one of {sorted(DEPTHS)}")):
    resnet_classifier(depth=12)
  with pytest.raises(ValueError, match="blocks_per_stage"):
    resnet_classifier(blocks_per_stage=(1, 2))


def test_images_that_are_not_scaled_to_the_unit_interval_are_refused():
  model = models.resnet_classifier((28, 28, 1), 10, width=2, depth=10)
  images, _ = data.mnist5k()
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"takes inputs in \[0, 1\].*tfib.data.to_float"):
    model.predict(images[:4], verbose=0)
  assert model.predict(data.to_float(images[:4]), verbose=0).shape == (4, 10)
  assert np.isfinite(model(data.to_float(images[:4]), training=False)).all()
