"""`load(name, split)`: every dataset tfib serves, built-in or from tensorflow-datasets."""
import functools
import socket
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from tfib.data.mnist5k import mnist5k
from tfib.data.szt import szt

# Built-in data: generated or bundled with a dependency, so it runs without a network.
BUILTIN: Dict[str, Callable[[], Tuple[np.ndarray, np.ndarray]]] = {
    "szt": szt,
    "mnist5k": mnist5k,
}
# tensorflow-datasets names with images and an integer "label" feature, and the host each
# downloads from (the builders' URLs), probed before a download is attempted.
DOWNLOAD_HOSTS = {
    "mnist": "storage.googleapis.com",
    "fashion_mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "cifar10": "www.cs.toronto.edu",
    "cinic10": "datashare.ed.ac.uk",
}
TFDS = tuple(DOWNLOAD_HOSTS)
PROBE_SECONDS = 5.0


class DatasetUnavailableError(RuntimeError):
  """The data is neither on disk nor downloadable (for instance no network)."""


def names():
  return sorted(BUILTIN) + sorted(TFDS)


def to_float(images) -> np.ndarray:
  """uint8 images (0..255, as `load` gives them) as float32 in [0, 1], what tfib's networks
  take; float images pass through unchanged. The one place tfib scales images."""
  images = np.asarray(images)
  if images.dtype == np.uint8:
    return images.astype(np.float32) / np.float32(255.0)
  return images.astype(np.float32, copy=False)


def load(name: str, split: str = "train", data_dir: Optional[str] = None):
  """Returns (inputs, labels) as numpy arrays: images uint8 [N, H, W, C], labels int32 [N].

  Images stay uint8 (small in memory); networks take `to_float` of them, floats in [0, 1].

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


def _unavailable(name, split, data_dir, why):
  return DatasetUnavailableError(
      f"Could not load {name!r} (split {split!r}) through tensorflow-datasets: it is not in "
      f"{data_dir or '~/tensorflow_datasets'} and could not be downloaded ({why}). Built-in "
      f"data that runs offline: {', '.join(sorted(BUILTIN))}.")


def _reachable(host: str) -> bool:
  """Whether ``host`` answers on HTTPS within `PROBE_SECONDS`."""
  try:
    socket.create_connection((host, 443), timeout=PROBE_SECONDS).close()
    return True
  except OSError:
    return False


def _load_tfds(name, split, data_dir):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tfib.data import cinic10  # noqa: F401  pylint: disable=g-import-not-at-top  Registers it.

  load = functools.partial(tfds.load, name, split=split, data_dir=data_dir,
                           as_supervised=True)
  try:
    try:
      dataset = load(download=False)  # What is on disk: no network needed.
    except AssertionError:  # Not prepared. Offline, tfds would retry its download for
      if not _reachable(DOWNLOAD_HOSTS[name]):  # ~200 s: say so in seconds instead.
        raise _unavailable(name, split, data_dir,
                           f"no network: {DOWNLOAD_HOSTS[name]} does not answer") from None
      dataset = load(download=True)
  except (OSError, tfds.core.download.DownloadError) as error:
    raise _unavailable(name, split, data_dir, type(error).__name__) from error
  batches = list(tfds.as_numpy(dataset.batch(8192)))
  if not batches:
    raise ValueError(f"Split {split!r} of {name!r} is empty.")
  images = np.concatenate([images for images, _ in batches])
  labels = np.concatenate([labels for _, labels in batches])
  return images, labels.astype(np.int32)
