"""Diagnostics that tell compression from estimator artefacts (Li & Liu's sweeps).

Per layer and recorded epoch, next to the MI records:

* ``fraction_saturated_units`` (tanh layers): the fraction of activations with
  |a| > 0.99. Saturated tanh units make binned activations collapse onto the outer bins —
  what Saxe et al. showed to produce "compression" that is not about the input.
* ``i_xt_by_bins`` (at the ``sweep_epochs``): I(X;T) of equal-width binning between the
  layer's minimum and maximum with 2, 4, ..., 256 bins. The bin counts double, so each
  binning refines the previous one and I(X;T) can only grow with the count: a layer whose
  I(X;T) is at log2 N already with a few bins has a distinct code for every input at any
  resolution, and its binned I(X;T) says nothing about compression.

The distinct-code fraction and the ceiling come with every counting estimate (its
``distinct_fraction`` and ``at_ceiling`` flag).
"""
from typing import Dict, Sequence

import numpy as np

from tfib.estimators.binning import Binning

__all__ = ["BIN_COUNTS", "LayerDiagnostics", "TANH_SATURATION"]

BIN_COUNTS = (2, 4, 8, 16, 32, 64, 128, 256)
TANH_SATURATION = 0.99


class LayerDiagnostics:
  """Measures the diagnostics of the module docstring.

  Args:
    tanh_layers: the layers whose units are tanh (their saturation is measured).
    sweep_epochs: the epochs at which to sweep the bin count.
  """

  def __init__(self, tanh_layers: Sequence[str] = (), sweep_epochs: Sequence[int] = ()):
    self.tanh_layers = set(tanh_layers)
    self.sweep_epochs = {int(e) for e in sweep_epochs}

  def measure(self, layer: str, activations: np.ndarray, epoch: int) -> Dict:
    """The diagnostics of ``layer``'s activations [N, ...] at ``epoch`` (JSON values)."""
    values = np.asarray(activations).reshape(len(activations), -1)
    found = {}
    if layer in self.tanh_layers:
      found["fraction_saturated_units"] = float(np.mean(np.abs(values) > TANH_SATURATION))
    if epoch in self.sweep_epochs:
      found["i_xt_by_bins"] = {
          str(bins): Binning("adaptive", num_bins=bins).estimate(values).i_xt
          for bins in BIN_COUNTS}
    return found
