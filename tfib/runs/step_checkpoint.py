"""A run's resume state for loops that count steps (critic fits, decoders), not epochs.

`StepCheckpoint` is what such a loop is handed: ``restore(trackables)`` makes them the run's
resume state and starts the run (restoring the newest state and rolling back what came
after it); ``save(step)`` commits step ``step``. ``every`` tells the loop how often to save.
"""
from typing import Callable, Dict, Optional

from tfib.runs.run import Run

__all__ = ["StepCheckpoint"]


class StepCheckpoint:
  """Resume state of a step loop in ``run``; ``on_start(resumed_step)`` runs once started."""

  def __init__(self, run: Run, every: int = 1,
               on_start: Optional[Callable[[Optional[int]], None]] = None):
    if int(every) < 1:
      raise ValueError(f"every must be >= 1, got {every}.")
    self.run = run
    self.every = int(every)
    self.on_start = on_start

  def restore(self, trackables: Dict[str, object]):
    self.run.track(**trackables)
    resumed = self.run.start()
    if self.on_start is not None:
      self.on_start(resumed)

  def save(self, step: int):
    self.run.commit(step)
