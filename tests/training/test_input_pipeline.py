"""Train/eval splits and the tf.data pipelines of tfib-train."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfib.training import input_pipeline
from tfib.training.input_pipeline import (IncompatibleDatasetError, eval_dataset,
                                          load_image_data, train_dataset)


def _rows(images):
  return {image.tobytes() for image in images}


def test_mnist5k_is_split_once_for_all_runs_and_subsets_are_fixed():
  full = load_image_data("mnist5k")
  assert (len(full.train_images), len(full.eval_images)) == (4000, 1000)
  assert full.image_shape == (28, 28, 1) and full.num_classes == 10
  assert not _rows(full.train_images) & _rows(full.eval_images)
  assert len(np.unique(full.train_labels)) == 10  # Shuffled before splitting.
  small = load_image_data("mnist5k", max_train_examples=100, max_eval_examples=20)
  again = load_image_data("mnist5k", max_train_examples=100, max_eval_examples=20)
  assert len(small.train_images) == 100 and len(small.eval_images) == 20
  np.testing.assert_array_equal(small.train_images, again.train_images)
  assert _rows(small.train_images) <= _rows(full.train_images)


def test_tfds_datasets_use_their_train_and_test_splits(tmp_path):
  with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
    data = load_image_data("cifar10", data_dir=str(tmp_path))
  assert data.image_shape == (32, 32, 3) and data.eval_split == "test"
  assert data.train_images.dtype == np.uint8 and len(data.eval_images) == 12


def test_inputs_that_are_not_images_are_refused():
  with pytest.raises(IncompatibleDatasetError, match=r"'szt' has inputs of shape \(12,\)"):
    load_image_data("szt")
  with pytest.raises(ValueError, match="Unknown dataset 'imagenet'"):
    load_image_data("imagenet")


def _epoch(images, labels, epoch, seed=0, augment=False, batch=4, context=None):
  dataset = train_dataset(tf.constant(images), tf.constant(labels), epoch, seed, batch,
                          augment, mirror=True, input_context=context)
  xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
  return np.concatenate(xs), np.concatenate(ys)


def test_epoch_order_and_augmentation_are_functions_of_seed_and_epoch():
  images = np.arange(10 * 8 * 8, dtype=np.uint8).reshape(10, 8, 8, 1)
  labels = np.arange(10, dtype=np.int32)
  x1, y1 = _epoch(images, labels, epoch=1)
  assert len(y1) == 8  # Two full batches of 4; the partial batch is dropped.
  order, _ = input_pipeline.epoch_order(10, 0, 1)
  np.testing.assert_array_equal(y1, order[:8])
  np.testing.assert_allclose(x1, images[order[:8]] / 255.0, rtol=1e-6)
  assert not np.array_equal(_epoch(images, labels, epoch=2)[1], y1)
  a1, _ = _epoch(images, labels, epoch=1, augment=True)
  a2, _ = _epoch(images, labels, epoch=1, augment=True)
  np.testing.assert_array_equal(a1, a2)
  assert a1.shape == x1.shape and not np.allclose(a1, x1)


def test_input_pipelines_of_several_workers_share_out_the_epoch():
  images = np.zeros((16, 8, 8, 1), np.uint8)
  labels = np.arange(16, dtype=np.int32)
  parts = [
      _epoch(images, labels, 1, batch=2, context=tf.distribute.InputContext(2, index, 2))[1]
      for index in range(2)]
  assert not set(parts[0]) & set(parts[1])
  assert sorted(np.concatenate(parts)) == list(range(16))


def test_eval_batches_keep_the_short_last_batch():
  images = np.full((5, 8, 8, 1), 255, np.uint8)
  sizes = [len(y) for _, y in eval_dataset(images, np.zeros(5, np.int32), 2)]
  assert sizes == [2, 2, 1]
  assert float(next(iter(eval_dataset(images, np.zeros(5, np.int32), 2)))[0].numpy().max()) == 1.0
