import socket
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfib import data


def test_builtin_names_load_offline():
  x, y = data.load("szt")
  assert x.shape == (4096, 12)
  images, labels = data.load("mnist5k", split="all")
  assert images.shape == (5000, 28, 28, 1)


def test_tfds_datasets_load_through_tensorflow_datasets():
  with tfds.testing.mock_data(num_examples=12):
    images, labels = data.load("mnist", split="train")
  assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
  assert labels.shape == (12,) and labels.dtype == np.int32


def test_cinic10_is_served_through_its_tensorflow_datasets_builder():
  with tfds.testing.mock_data(num_examples=5):
    images, labels = data.load("cinic10", split="validation")
  assert images.shape == (5, 32, 32, 3) and labels.shape == (5,)
  assert labels.max() < 10


def test_unknown_dataset_names_the_known_ones():
  with pytest.raises(ValueError, match="Unknown dataset 'imagenet21k'.*mnist5k"):
    data.load("imagenet21k")


def test_builtin_dataset_has_no_test_split():
  with pytest.raises(ValueError, match="one split"):
    data.load("szt", split="test")


def test_no_network_says_which_data_runs_offline(monkeypatch, tmp_path):
  def offline(*args, **kwargs):
    raise ConnectionError("Failed to resolve 'storage.googleapis.com'")

  monkeypatch.setattr(tfds, "load", offline)
  with pytest.raises(data.DatasetUnavailableError, match="offline: mnist5k, szt"):
    data.load("fashion_mnist", split="train", data_dir=str(tmp_path))


def test_offline_with_nothing_on_disk_fails_in_seconds_not_minutes(monkeypatch, tmp_path):
  calls = []

  def load(*args, download=True, **kwargs):
    calls.append(download)
    if not download:
      raise AssertionError("Dataset mnist: could not find data")
    time.sleep(300)  # What tfds' retries would cost offline.

  def no_route(*args, **kwargs):
    raise OSError("[Errno -3] Temporary failure in name resolution")

  monkeypatch.setattr(tfds, "load", load)
  monkeypatch.setattr(socket, "create_connection", no_route)
  start = time.monotonic()
  with pytest.raises(data.DatasetUnavailableError,
                     match="no network: storage.googleapis.com does not answer.*offline"):
    data.load("mnist", split="test", data_dir=str(tmp_path))
  assert time.monotonic() - start < 10 and calls == [False]
