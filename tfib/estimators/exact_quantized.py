"""Exact mutual information of quantized layers (Lorenzen, Igel & Nielsen, 2022).

"Information bottleneck: exact analysis of (quantized) neural networks": when a layer can
only take 2^bits values, its mutual information with the input is a finite, exactly
computable quantity — no binning choice. A fake-quantized layer (`tfib.layers.FakeQuant`)
emits values exactly on its grid lo + k·s, k = 0 .. 2^bits − 1; `exact` reads the integer
level k of every unit,

    k(a) = round((a − a_min) / s),

with s the grid step (the smallest gap between the layer's distinct values, checked: every
value must lie on the grid) and counts I(X;T), I(T;Y) exactly
(`tfib.estimators.counting`). Counting is invariant to renaming the levels, so the result
is the mutual information of the quantized representation itself.

``exact`` refuses what it cannot count exactly: a layer with more than 2^bits distinct
values, or values off a uniform grid — a float layer, for which binning is the estimator to
use ('binning:scheme=adaptive,num_bins=256' bins it into 256 equal-width bins; no longer
"exact"). ``bits=32`` counts distinct float32 values bit for bit (the "32-bit" networks of
the paper), where I(X;T) is usually pinned at log2 N.

Caveats: a layer whose quantization grid is taken from each batch (range_mode="batch") has
one grid only when all N inputs are evaluated at once. And the count is exact for the
network as it is computed: a pre-activation within a rounding error of a level boundary
can land on either side in another implementation (eager or graph execution, another
matrix-product blocking, another device) — on mnist-bottleneck-4 at 4 bits, eager and graph
evaluation differ by 2e-4 bits. `tfib.callbacks.InformationPlane` evaluates quantized
networks on all N inputs in one compiled call, so its counts are one definite number.
"""
import numpy as np

from tfib.estimators.base import Estimator, as_finite_activations, check_integer
from tfib.estimators.counting import counting_estimate
from tfib.estimators.registry import register

SUPPORTED_BITS = (4, 8, 32)
_SAMPLE = 1 << 16  # Values looked at to find the grid; every value is then checked on it.
_OFF_GRID = 0.1  # Largest distance from the grid, in steps, that float rounding explains.


@register("exact")
class ExactQuantized(Estimator):
  """Exact I(X;T) and I(T;Y), in bits, of a layer quantized to 2^bits levels (bits 4 or 8),
  or of its float32 values (bits 32)."""

  def __init__(self, bits: int = 8):
    self.bits = check_integer("bits", bits, low=1, allowed=SUPPORTED_BITS)

  @property
  def params(self):
    return {"bits": self.bits}

  def codes(self, activations) -> np.ndarray:
    """Integer levels [N, D] of activations [N, ...]; ValueError if not quantized."""
    values = as_finite_activations(activations)
    if self.bits == 32:
      return (values.astype(np.float32) + np.float32(0.0)).view(np.int32)
    values = values.astype(np.float64)
    flat = values.ravel()
    low, high = flat.min(), flat.max()
    if low == high:
      return np.zeros(values.shape, np.int64)
    sample = flat if flat.size <= _SAMPLE else np.random.default_rng(0).choice(flat, _SAMPLE)
    levels = np.unique(np.concatenate([sample, [low, high]]))
    self._check_count(len(levels))
    step = np.min(np.diff(levels))
    codes = np.rint((values - low) / step)
    if np.max(np.abs(values - (low + codes * step))) > _OFF_GRID * step:
      # Off the grid the sample suggests: the sample missed levels, or there is no grid.
      levels = np.unique(flat)
      self._check_count(len(levels))
      codes = np.searchsorted(levels, values)
    elif codes.max() > 2 ** self.bits - 1:
      raise ValueError(
          f"The layer spans {int(codes.max()) + 1} steps of its grid, more than the "
          f"{2 ** self.bits} levels of {self.bits} bits; {self._advice()}")
    return codes.astype(np.int64)

  def _check_count(self, count: int):
    if count > 2 ** self.bits:
      raise ValueError(
          f"exact:bits={self.bits} counts a layer quantized to at most {2 ** self.bits} values, "
          f"but this layer takes {count if count < _SAMPLE else 'many more'} distinct values "
          f"(a float layer?). {self._advice()}")

  def _advice(self) -> str:
    return ("For a float layer use binning, e.g. 'binning:scheme=adaptive,num_bins="
            f"{2 ** self.bits}', or 'exact:bits=32' to count its float32 values; for a "
            "quantized network, give exact the bits it was trained with.")

  def estimate(self, activations, labels=None, inputs=None):
    codes = self.codes(activations)
    return counting_estimate(codes, labels, inputs, self.name, self.params)
