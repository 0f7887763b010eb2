"""Binning estimators: discretise activations, then count (Shwartz-Ziv & Tishby; Saxe et al.).

Three schemes, as the literature compares them:

* ``"idnns"`` — Shwartz-Ziv & Tishby (2017), as in their IDNNs code: ``num_bins`` equally
  spaced edges e_0 = −1 < ... < e_{K−1} = 1 and a value a gets the index
  i = digitize(a, e) − 1, so e_i ≤ a < e_{i+1}. Their treatment of values outside [−1, 1) is
  reproduced exactly: a ≥ 1 gets the last index K − 1, and a < −1 gets index −1, which numpy
  indexing wraps around to K − 1 as well. So everything out of range, on either side, shares
  one bin with [1, ∞). Harmless for tanh layers (|a| < 1); for ReLU layers every activation
  ≥ 1 is merged into one bin, one reason binning looks different there.
* ``"saxe"`` — Saxe et al. (2018): code = floor(a / bin_size), unbounded, no range needed.
* ``"adaptive"`` — Lorenzen, Igel & Nielsen (2022): ``num_bins`` equal-width bins between the
  minimum and maximum of the layer's activations over all inputs (``per_neuron=True``: of
  each neuron separately); code = min(floor((a − lo) / (hi − lo) · K), K − 1).

Then I(X;T) and I(T;Y) are counted exactly (see `tfib.estimators.counting`).

Caveat: binning measures the geometry of the representation at one resolution, not the
(infinite) mutual information of a deterministic continuous map. The numbers depend on the
bin count and saturate at log2 N when each input has its own code: `MIEstimate` carries N,
log2 N and the fraction of distinct codes so that saturation is visible.
"""
import dataclasses

import numpy as np

from tfib.estimators.base import (Estimator, as_finite_activations, check_integer,
                                  check_positive)
from tfib.estimators.counting import counting_estimate
from tfib.estimators.registry import register

SCHEMES = ("idnns", "saxe", "adaptive")
_EXACT_INTEGERS = 2.0 ** 53  # Every integer below is a float64: floor() indices stay exact.


@register("binning")
class Binning(Estimator):
  """Binning estimator of I(X;T) and I(T;Y), in bits.

  Args:
    scheme: "idnns", "saxe" or "adaptive" (see the module docstring).
    num_bins: number of bin edges on [−1, 1] ("idnns", IDNNs' default 30) or number of
      bins between min and max ("adaptive").
    bin_size: bin width for "saxe".
    per_neuron: "adaptive" only: ranges per neuron instead of per layer.
  """

  def __init__(self, scheme: str = "idnns", num_bins: int = 30, bin_size: float = 0.07,
               per_neuron: bool = False):
    if scheme not in SCHEMES:
      raise ValueError(f"Unknown binning scheme {scheme!r}; choose one of {SCHEMES}.")
    if per_neuron and scheme != "adaptive":
      raise ValueError("per_neuron ranges exist only for the 'adaptive' scheme.")
    if not isinstance(per_neuron, (bool, np.bool_)):
      raise ValueError(f"per_neuron must be True or False, got {per_neuron!r}.")
    self.scheme = scheme
    self.num_bins = check_integer("num_bins", num_bins, low=2)
    self.bin_size = check_positive("bin_size", bin_size)
    self.per_neuron = bool(per_neuron)

  @property
  def params(self):
    if self.scheme == "saxe":
      return {"scheme": "saxe", "bin_size": self.bin_size}
    params = {"scheme": self.scheme, "num_bins": self.num_bins}
    if self.scheme == "adaptive":
      params["per_neuron"] = self.per_neuron
    return params

  def codes(self, activations) -> np.ndarray:
    """Integer bin indices [N, D] of activations [N, ...]."""
    values = as_finite_activations(activations)
    if self.scheme == "idnns":
      edges = np.linspace(-1, 1, self.num_bins, dtype=np.float32)
      index = np.digitize(values.astype(np.float32), edges) - 1
      return np.where(index < 0, self.num_bins - 1, index)  # IDNNs' wrap-around.
    if self.scheme == "saxe":
      with np.errstate(over="ignore"):
        scaled = values.astype(np.float64) / self.bin_size
      largest = float(np.max(np.abs(scaled)))
      if not largest < _EXACT_INTEGERS:
        raise ValueError(
            f"Saxe binning with bin_size {self.bin_size} gives bin indices up to {largest:.3g}, "
            f"beyond the {_EXACT_INTEGERS:.3g} that are counted exactly: the activations "
            "are too large for this bin size (use a larger bin_size or the adaptive scheme).")
      return np.floor(scaled).astype(np.int64)
    axis = 0 if self.per_neuron else None
    values = values.astype(np.float64)
    low = values.min(axis=axis, keepdims=True)
    span = values.max(axis=axis, keepdims=True) - low
    if not np.all(np.isfinite(span)):
      raise ValueError("The activations span more than float64 can hold; scale them first.")
    scaled = (values - low) / np.where(span > 0, span, 1.0) * self.num_bins
    return np.minimum(np.floor(scaled), self.num_bins - 1).astype(np.int64)

  def estimate(self, activations, labels=None, inputs=None):
    codes = self.codes(activations)
    estimate = counting_estimate(codes, labels, inputs, self.name, self.params)
    if self.scheme != "idnns":
      return estimate
    outside = float(np.mean(np.abs(as_finite_activations(activations)) > 1.0))
    if not outside:
      return estimate
    return dataclasses.replace(estimate, extras={"fraction_outside_bins": outside}, flags=dict(
        estimate.flags, outside_bins=f"{100 * outside:.3g}% of the values lie outside IDNNs' "
                                     "[-1, 1] bins and share the top bin (unbounded "
                                     "activations? use scheme=adaptive)"))
