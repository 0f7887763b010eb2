"""The interface every registered estimator implements."""
import abc
import math
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
  """Returns labels [N] as dense class codes 0..C-1 (int32), or None.

  Accepts class indices of any integer dtype (also integral floats and bools), which are
  renumbered in sorted order: mutual information does not depend on the names of the
  classes, and no label is ever wrapped into another (a label of 2^31 stays its own class).
  [N, C] rows must be one-hot (exactly one 1, the rest 0); soft probabilities are refused.
  """
  if labels is None:
    return None
  labels = np.asarray(labels)
  if labels.ndim == 2 and labels.shape[1] > 1:
    if not np.all((labels == 0) | (labels == 1)) or np.any(labels.sum(axis=1) != 1):
      raise ValueError(f"[N, C] labels must be one-hot rows (a single 1 per row); these "
                       f"{labels.shape} rows are not (soft probabilities?). Give class "
                       "indices [N] instead.")
    labels = labels.argmax(axis=1)
  labels = labels.reshape(-1) if labels.ndim == 2 else labels
  if labels.ndim != 1:
    raise ValueError(f"labels must be [N] class indices or [N, C] one-hot, got shape "
                     f"{labels.shape}.")
  if labels.shape[0] != num_samples:
    raise ValueError(f"label count mismatch: {labels.shape[0]} labels for {num_samples} "
                     "samples of activations.")
  if labels.dtype == bool:
    labels = labels.astype(np.int64)
  if not np.issubdtype(labels.dtype, np.integer):
    if not np.issubdtype(labels.dtype, np.floating):
      raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}.")
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
      raise ValueError("labels must be integer class indices; these floats are not whole "
                       "numbers (or not finite).")
  return np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.int32)


def check_integer(name: str, value, low: int, allowed=None) -> int:
  """``value`` as an int, refusing non-integers (2.7), bools and values below ``low`` or
  outside ``allowed``."""
  if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
    raise ValueError(f"{name} must be an integer, got {value!r}.")
  if isinstance(value, (float, np.floating)) and not float(value).is_integer():
    raise ValueError(f"{name} must be an integer, got {value!r}.")
  value = int(value)
  if allowed is not None and value not in allowed:
    raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value}.")
  if value < low:
    raise ValueError(f"{name} must be at least {low}, got {value}.")
  return value


def check_positive(name: str, value) -> float:
  """``value`` as a finite positive float."""
  if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
    raise ValueError(f"{name} must be a positive number, got {value!r}.")
  if not (math.isfinite(float(value)) and float(value) > 0):
    raise ValueError(f"{name} must be positive and finite, got {value!r}.")
  return float(value)


def channel_description(noise_std: float) -> str:
  """How a noisy estimate reads the layer: the same words for every estimator."""
  return (f"T + N(0, sigma^2 I) with sigma = {noise_std:.4g} (variance "
          f"{noise_std ** 2:.4g}), in the units of the activations")


def label_entropy(labels: np.ndarray) -> float:
  """H(Y) in bits of the empirical label distribution."""
  counts = np.bincount(labels).astype(np.float64)
  p = counts[counts > 0] / labels.shape[0]
  return float(-(p * np.log2(p)).sum())
