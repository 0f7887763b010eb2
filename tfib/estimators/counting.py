"""Mutual information of discrete codes by exact counting, shared by the counting estimators.

For a deterministic network T = f(X) evaluated on N inputs with the empirical distribution,

    I(X;T) = H(T) − H(T|X),    I(T;Y) = H(T) − H(T|Y),

where H(T|X) = 0 when the N inputs are distinct (the usual case), so I(X;T) = H(T) ≤ log2 N.
Every entropy is a plug-in (maximum-likelihood) entropy of counted codes, computed in one
pass by `tfib.ops.code_entropies` (C++ kernel, or its pure-TensorFlow reference).
"""
import math

import numpy as np

from tfib import ops
from tfib.estimators.base import as_labels, label_entropy
from tfib.estimators.result import MIEstimate

CEILING_TOLERANCE = 0.01  # bits: closer than this to log2 N, I(X;T) is pinned at its ceiling.


def smallest_code_dtype(codes: np.ndarray) -> np.ndarray:
  """Casts integer codes to the narrowest of uint8/int16/int32 that holds them: the kernel
  then reads fewer bytes. Wider codes pass through unchanged (the op takes them too)."""
  low, high = int(codes.min()), int(codes.max())
  for dtype in (np.uint8, np.int16, np.int32):
    info = np.iinfo(dtype)
    if info.min <= low and high <= info.max:
      return codes.astype(dtype, copy=False)
  return codes


def input_ids(inputs, num_samples: int) -> np.ndarray:
  """An integer id per input row; equal rows get equal ids (bytewise equality)."""
  inputs = np.asarray(inputs)
  if inputs.ndim == 0 or inputs.shape[0] != num_samples:
    raise ValueError(f"input count mismatch: {inputs.shape[0] if inputs.ndim else 'no'} inputs "
                     f"for {num_samples} samples of activations (one input row per sample).")
  rows = np.ascontiguousarray(inputs.reshape(num_samples, -1))
  if np.issubdtype(rows.dtype, np.floating):
    rows = rows + 0.0  # −0.0 and +0.0 are the same input.
  keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
  return np.unique(keys, return_inverse=True)[1].astype(np.int32)


def counting_estimate(codes: np.ndarray, labels, inputs, name: str, params) -> MIEstimate:
  """I(X;T) and I(T;Y) in bits of integer codes [N, D] by exact counting."""
  num_samples = codes.shape[0]
  labels = as_labels(labels, num_samples)
  ids = None if inputs is None else input_ids(inputs, num_samples)
  codes = smallest_code_dtype(codes)
  by_label = ops.code_entropies(codes, labels)
  h_t = float(by_label.h_t)
  h_t_given_x = 0.0
  if ids is not None:
    h_t_given_x = float(ops.code_entropies(codes, ids).h_t_given_y)
  i_xt = h_t - h_t_given_x
  flags = {}
  if num_samples > 1 and math.log2(num_samples) - i_xt < CEILING_TOLERANCE:
    flags["at_ceiling"] = (
        f"I(X;T) = {i_xt:.4f} bits is within {CEILING_TOLERANCE} of log2 N: (nearly) every "
        "input has its own code, so this layer's I(X;T) cannot move (no compression can show)")
  return MIEstimate(
      estimator=name,
      params=params,
      i_xt=i_xt,
      i_ty=None if labels is None else h_t - float(by_label.h_t_given_y),
      num_samples=num_samples,
      h_y=None if labels is None else label_entropy(labels),
      distinct_fraction=int(by_label.num_distinct) / num_samples,
      flags=flags,
  )
