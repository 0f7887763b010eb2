"""The interface every registered estimator implements."""
import abc
from typing import Any, Dict, Optional

import numpy as np

from tfib.estimators.result import MIEstimate


class Estimator(abc.ABC):
  """Estimates I(X;T) and I(T;Y) of one representation T.

  ``estimate(activations, labels, inputs)`` takes the activations T of one layer for a set
  of inputs ([N, ...]), the integer labels Y ([N]) and optionally the inputs X themselves
  ([N, ...]), and returns an `MIEstimate` in bits. Counting estimators assume distinct
  inputs unless ``inputs`` is given; estimators that read T through the layer map (the
  MINE family, as Elad et al. do) need ``inputs``.
  """

  name: str  # Set by `tfib.estimators.register`.

  @property
  @abc.abstractmethod
  def params(self) -> Dict[str, Any]:
    """The constructor arguments: `get(self.name, **self.params)` rebuilds the estimator."""

  @abc.abstractmethod
  def estimate(self, activations, labels=None, inputs=None) -> MIEstimate:
    """I(X;T) and I(T;Y) in bits for activations T of shape [N, ...]."""

  def __repr__(self):
    args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
    return f"{type(self).__name__}({args})"


def as_finite_activations(activations, what: str = "activations") -> np.ndarray:
  """Returns [N, D] float activations, refusing empty, NaN or Inf values by name."""
  array = np.asarray(activations)
  if array.ndim == 0:
    raise ValueError(f"{what} must have a leading sample axis, got a scalar.")
  if array.shape[0] == 0 or array.size == 0:
    raise ValueError(f"{what} are empty (shape {array.shape}); need at least one sample.")
  if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
          or array.dtype == bool):
    raise TypeError(f"{what} must be numeric, got dtype {array.dtype}.")
  array = array.reshape(array.shape[0], -1)
  if np.issubdtype(array.dtype, np.floating):
    bad = ~np.isfinite(array)
    if bad.any():
      sample, unit = np.argwhere(bad)[0]
      kind = "NaN" if np.isnan(array[sample, unit]) else "Inf"
      raise ValueError(
          f"{what} contain {int(bad.sum())} non-finite values ({kind} first at sample "
          f"{sample}, unit {unit}); the network has diverged or the input is broken.")
  return array


def as_labels(labels, num_samples: int) -> Optional[np.ndarray]:
  """Returns integer labels [N] (class indices; one-hot rows are reduced by argmax)."""
  if labels is None:
    return None
  labels = np.asarray(labels)
  if labels.ndim == 2 and labels.shape[1] > 1:
    labels = labels.argmax(axis=1)
  labels = labels.reshape(-1) if labels.ndim == 2 else labels
  if labels.ndim != 1:
    raise ValueError(f"labels must be [N] class indices or [N, C] one-hot, got shape "
                     f"{labels.shape}.")
  if labels.shape[0] != num_samples:
    raise ValueError(f"label count mismatch: {labels.shape[0]} labels for {num_samples} "
                     "samples of activations.")
  if not np.issubdtype(labels.dtype, np.integer):
    if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
      labels = labels.astype(np.int64)
    else:
      raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}.")
  if labels.min() < 0:
    raise ValueError("labels must be non-negative class indices.")
  return labels.astype(np.int32)


def label_entropy(labels: np.ndarray) -> float:
  """H(Y) in bits of the empirical label distribution."""
  counts = np.bincount(labels).astype(np.float64)
  p = counts[counts > 0] / labels.shape[0]
  return float(-(p * np.log2(p)).sum())
