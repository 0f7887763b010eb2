"""Held-out early stopping of a critic: the running mean of the last evaluations.

Every evaluation adds a held-out value. Once ``num_last`` values exist, their running mean is
tracked; when it has not improved (by more than ``min_delta``) for ``patience`` evaluations,
the learning rate drops (``drops`` times at most; the count restarts) and then training
stops. The best window is that of the best running mean: ``num_last`` consecutive
held-out evaluations — the last ones before held-out performance stopped improving, or simply
the last ones if it never did; `critic_training` pools their held-out rows into the
estimate, and their spread is the standard deviation of their values. (Picking the best
window biases the estimate up by about spread / sqrt(num_last) at most; overfitting would
bias the last evaluations down by far more.)

The state is a function of the values added, so a resumed fit rebuilds it by adding its
history again.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["EarlyStopping"]


class EarlyStopping:
  """See the module docstring."""

  def __init__(self, patience: int, num_last: int, min_delta: float = 0.0, drops: int = 0):
    self.patience = int(patience)
    self.num_last = int(num_last)
    self.min_delta = float(min_delta)
    self.drops = int(drops)
    self.dropped = 0  # How many times the learning rate has dropped.
    self.values: List[float] = []
    self.best = -math.inf
    self.best_index = 0
    self.since_best = 0

  def add(self, value: float) -> bool:
    """Adds a held-out value; returns True when training should stop."""
    self.values.append(float(value))
    if len(self.values) < self.num_last:  # Windows start once num_last evaluations exist.
      self.best_index = len(self.values) - 1
      return False
    running = float(np.mean(self.values[-self.num_last:]))
    if running > self.best + self.min_delta:
      self.best, self.best_index, self.since_best = running, len(self.values) - 1, 0
      return False
    self.since_best += 1
    if self.since_best < self.patience:
      return False
    if self.dropped < self.drops:
      self.dropped, self.since_best = self.dropped + 1, 0
      return False
    return True

  @classmethod
  def replay(cls, values: Sequence[float], patience: int, num_last: int,
             min_delta: float = 0.0, drops: int = 0) -> Tuple["EarlyStopping", bool]:
    """The state after ``values``, and whether it had asked to stop at the last one."""
    stopping, stop = cls(patience, num_last, min_delta, drops), False
    for value in values:
      stop = stopping.add(value)
    return stopping, stop

  def window(self) -> Tuple[float, ...]:
    """The values of the best window."""
    return tuple(self.values[max(0, self.best_index + 1 - self.num_last):self.best_index + 1])

  def estimate(self) -> Tuple[float, float]:
    """(mean of the best window, its standard deviation)."""
    last = self.window()
    return float(np.mean(last)), float(np.std(last, ddof=1)) if len(last) > 1 else 0.0
