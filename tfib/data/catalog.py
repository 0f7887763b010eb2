"""`load(name, split)`: every dataset tfib serves, built-in or from tensorflow-datasets."""
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from tfib.data.mnist5k import mnist5k
from tfib.data.szt import szt

# Built-in data: generated or bundled with a dependency, so it runs without a network.
BUILTIN: Dict[str, Callable[[], Tuple[np.ndarray, np.ndarray]]] = {
    "szt": szt,
    "mnist5k": mnist5k,
}
# tensorflow-datasets names with images and an integer "label" feature.
TFDS = ("mnist", "fashion_mnist", "cifar10", "cinic10")


class DatasetUnavailableError(RuntimeError):
  """The data is neither on disk nor downloadable (for instance no network)."""


def names():
  return sorted(BUILTIN) + sorted(TFDS)


def load(name: str, split: str = "train", data_dir: Optional[str] = None):
  """Returns (inputs, labels) as numpy arrays: images uint8 [N, H, W, C], labels int32 [N].

  Built-in data (``szt``, ``mnist5k``) has a single split holding everything: ``split``
  must be "all" or "train". Other names load through tensorflow-datasets, which downloads
  them on first use into ``data_dir`` (default ~/tensorflow_datasets).
  """
  if name in BUILTIN:
    if split not in ("all", "train"):
      raise ValueError(f"Built-in dataset {name!r} has one split ('all'), not {split!r}.")
    return BUILTIN[name]()
  if name not in TFDS:
    raise ValueError(f"Unknown dataset {name!r}; known datasets: {', '.join(names())}.")
  return _load_tfds(name, split, data_dir)


def _load_tfds(name, split, data_dir):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tfib.data import cinic10  # noqa: F401  pylint: disable=g-import-not-at-top  Registers it.

  try:
    dataset = tfds.load(name, split=split, data_dir=data_dir, as_supervised=True)
  except (OSError, tfds.core.download.DownloadError) as error:
    raise DatasetUnavailableError(
        f"Could not load {name!r} (split {split!r}) through tensorflow-datasets: it is "
        f"not in {data_dir or '~/tensorflow_datasets'} and could not be downloaded "
        f"({type(error).__name__}). Built-in data that runs offline: "
        f"{', '.join(sorted(BUILTIN))}.") from error
  batches = list(tfds.as_numpy(dataset.batch(8192)))
  if not batches:
    raise ValueError(f"Split {split!r} of {name!r} is empty.")
  images = np.concatenate([images for images, _ in batches])
  labels = np.concatenate([labels for _, labels in batches])
  return images, labels.astype(np.int32)
