"""Exact mutual information of quantized layers (Lorenzen, Igel & Nielsen, 2022).

"Information bottleneck: exact analysis of (quantized) neural networks": when a layer can
only take 2^bits values, its mutual information with the input is a finite, exactly
computable quantity — no binning choice. Over all N inputs, each activation a of the layer
is mapped onto the layer's grid of 2^bits levels spanned by its minimum and maximum:

    q(a) = round((a − min) / (max − min) · (2^bits − 1)),

and I(X;T), I(T;Y) are counted exactly (`tfib.estimators.counting`). For a network trained
with fake-quantized activations this is the identity on its levels, hence exact.
``bits=32`` instead counts distinct float32 values bit for bit (the "32-bit" networks of the
paper), where I(X;T) is usually pinned at log2 N.
"""
import numpy as np

from tfib.estimators.base import Estimator, as_finite_activations
from tfib.estimators.counting import counting_estimate
from tfib.estimators.registry import register


@register("exact")
class ExactQuantized(Estimator):
  """Exact I(X;T) and I(T;Y), in bits, of a layer quantized to 2^bits levels (1 ≤ bits ≤ 16,
  or 32 for float32 values themselves)."""

  def __init__(self, bits: int = 8):
    bits = int(bits)
    if not (1 <= bits <= 16 or bits == 32):
      raise ValueError(f"bits must be in 1..16 or 32, got {bits}.")
    self.bits = bits

  @property
  def params(self):
    return {"bits": self.bits}

  def codes(self, activations) -> np.ndarray:
    """Integer level indices [N, D] of activations [N, ...]."""
    values = as_finite_activations(activations)
    if self.bits == 32:
      return (values.astype(np.float32) + np.float32(0.0)).view(np.int32)
    low = values.min().astype(np.float64)
    span = float(values.max()) - low
    if span == 0:
      return np.zeros(values.shape, np.int64)
    levels = 2 ** self.bits - 1
    return np.rint((values - low) / span * levels).astype(np.int64)

  def estimate(self, activations, labels=None, inputs=None):
    codes = self.codes(activations)
    return counting_estimate(codes, labels, inputs, self.name, self.params)
