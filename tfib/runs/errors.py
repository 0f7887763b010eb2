"""What can go wrong with a run directory, as exceptions programs turn into clear messages."""
from typing import Any, Mapping

__all__ = ["ConfigMismatchError", "CorruptStateError", "RunError"]


class RunError(RuntimeError):
  """The run directory cannot be used as asked (another program's, unwritable, ...)."""


class ConfigMismatchError(RunError):
  """The run directory holds a run of another configuration.

  ``differences`` maps each differing setting ("section.key") to (value in the run, value
  now).
  """

  def __init__(self, message: str, differences: Mapping[str, Any]):
    super().__init__(message)
    self.differences = dict(differences)

  def __reduce__(self):  # Raised in a worker process, re-raised in its parent.
    return type(self), (self.args[0], self.differences)


class CorruptStateError(RunError):
  """A resume state or a saved network cannot be read."""
