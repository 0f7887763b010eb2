"""Row caches: evaluate a causal network on a horizontal band of rows, given the band above.

Every convolution of the PixelCNN++ network looks at most one row up (kernel height 2,
`down_shift`). Evaluated on rows [a, a + m) alone, it needs, for each convolution, the last
row of that convolution's input from the band above, in place of its zero padding. A
`RowCache` threads those rows through one forward pass: each causal layer asks ``top(x)``
for the row above its input ``x``, and the cache records ``x``'s own last row for the next
band. The order of the calls is the order of the forward pass, the same in every band.
"""

__all__ = ["RowCache"]


class RowCache:
  """Serves the rows above a band (``tops``; zeros padding when None) and records new ones."""

  def __init__(self, tops=None):
    self._tops = None if tops is None else list(tops)
    self._next = 0
    self.recorded = []

  def top(self, x):
    """The row above ``x`` [B, h, W, C] ([B, 1, W, C] or None), recording ``x``'s last row."""
    self.recorded.append(x[:, -1:])
    if self._tops is None:
      return None
    if self._next >= len(self._tops):
      raise ValueError("RowCache: more causal layers than cached rows; the cache comes from "
                       "a different network.")
    top = self._tops[self._next]
    self._next += 1
    return top

  def skip(self, count):
    """Passes over ``count`` cached rows, for layers a partial pass does not evaluate."""
    self._next += count
