"""Progress of a long run: done of total, time per unit, time left, the latest numbers.

One `Progress` per loop (epochs of a training, steps of a critic fit). On a terminal it
redraws one live line; in a log (output not a terminal) it writes one line per update, at
most one every ``every_seconds`` (and always the last), so a log of a long run stays
readable:

    epoch 120/2000 (6%)  0.021 s/epoch  1 min 59 s left  loss 0.4810  h3 I(X;T) 3.02 bits
"""
import math
import sys
import time
from typing import Callable, Optional, TextIO

__all__ = ["Progress", "format_seconds"]


def format_seconds(seconds: float) -> str:
  """'45 s', '3 min 05 s', '2 h 07 min'."""
  if not math.isfinite(seconds):
    return "?"
  seconds = max(0.0, seconds)
  if seconds < 60:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
  minutes, seconds = divmod(int(round(seconds)), 60)
  if minutes < 60:
    return f"{minutes} min {seconds:02d} s"
  hours, minutes = divmod(minutes, 60)
  return f"{hours} h {minutes:02d} min"


class Progress:
  """Reports ``done`` of ``total`` units (see the module docstring).

  Args:
    total: the number of units of the whole loop.
    unit: their name ("epoch", "step").
    start: units already done when this process began (a resumed run): time per unit and
      time left count only the units done here.
    stream: where to write (default stderr).
    every_seconds: in a log, the least time between two lines.
    clock: time source (tests pass a fake one).
  """

  def __init__(self, total: int, unit: str = "epoch", start: int = 0,
               stream: Optional[TextIO] = None, every_seconds: float = 10.0,
               clock: Callable[[], float] = time.monotonic):
    self.total = int(total)
    self.unit = unit
    self.start = int(start)
    self.stream = stream or sys.stderr
    self.every_seconds = float(every_seconds)
    self.clock = clock
    self.live = bool(getattr(self.stream, "isatty", lambda: False)())
    self._began = clock()
    self._last_line = -math.inf
    self._width = 0

  def line(self, done: int, details: str = "") -> str:
    """The progress line for ``done`` units."""
    elapsed = self.clock() - self._began
    here = done - self.start
    per_unit = elapsed / here if here > 0 else math.nan
    left = per_unit * (self.total - done) if here > 0 else math.nan
    percent = 100.0 * done / self.total if self.total else 100.0
    text = f"{self.unit} {done}/{self.total} ({percent:.0f}%)"
    if here > 0:
      text += f"  {per_unit:.3g} s/{self.unit}  {format_seconds(left)} left"
    return f"{text}  {details}" if details else text

  def update(self, done: int, details: str = ""):
    """Reports ``done`` units, with ``details`` (the latest loss, MI, ...)."""
    now = self.clock()
    final = done >= self.total
    if not self.live and not final and now - self._last_line < self.every_seconds:
      return
    self._last_line = now
    text = self.line(done, details)
    if self.live:
      padding = max(0, self._width - len(text))
      self.stream.write("\r" + text + " " * padding + ("\n" if final else ""))
      self._width = len(text)
    else:
      self.stream.write(text + "\n")
    self.stream.flush()

  def close(self):
    """Ends a live line that did not reach the total."""
    if self.live and self._width:
      self.stream.write("\n")
      self.stream.flush()
      self._width = 0
