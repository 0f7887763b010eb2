import gzip

import numpy as np
from sklearn.linear_model import LogisticRegression

from tfib.data import mnist5k


def _read_idx(path):
  with gzip.open(path, "rb") as stream:
    data = stream.read()
  dims = data[3]
  shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
  return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def test_shapes_types_and_class_balance():
  images, labels = mnist5k()
  assert images.shape == (5000, 28, 28, 1) and images.dtype == np.uint8
  assert labels.dtype == np.int32
  np.testing.assert_array_equal(np.bincount(labels), [500] * 10)
  assert images.max() == 255 and images.min() == 0


def test_images_are_real_mnist_digits(shared_data):
  # A linear classifier trained on the 5,000 bundled images must recognise the real MNIST
  # test set: this fails if the images were transposed, shuffled against their labels, or
  # not MNIST at all.
  images, labels = mnist5k()
  test_images = _read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
  test_labels = _read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
  classifier = LogisticRegression(max_iter=200)
  classifier.fit(images.reshape(5000, -1)[::2] / 255.0, labels[::2])
  accuracy = classifier.score(test_images.reshape(10000, -1)[:3000] / 255.0, test_labels[:3000])
  assert accuracy > 0.82
