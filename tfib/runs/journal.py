"""Journals: JSON-lines files a run appends records to, each record stamped with its step.

A record is one JSON object per line, appended and flushed to disk as it comes, so a killed
run leaves every complete record readable; only the last line can be torn, and it is
dropped when the journal is read or opened. Resuming from the state of step k rolls the
journal back to k (`truncate`): records of later steps are removed, and the resumed run
appends them again, computed the same way.
"""
import json
import os
from typing import Dict, Iterable, List, Optional

from tfib.runs import atomic

__all__ = ["Journal", "read_records"]


def read_records(path: str) -> List[Dict]:
  """The complete records of a JSON-lines file (empty if it does not exist)."""
  if not os.path.exists(path):
    return []
  with open(path, "rb") as stream:
    data = stream.read()
  lines = data.split(b"\n")
  if not data.endswith(b"\n"):
    lines = lines[:-1]  # A line cut short by a kill.
  records = []
  for number, line in enumerate(lines, 1):
    if not line.strip():
      continue
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError:
      raise ValueError(f"{path}:{number} is not a JSON record; the file is damaged.") from None
  return records


class Journal:
  """A JSON-lines file whose records carry their step under ``step_key``.

  ``writable=False`` (a worker that is not the chief) makes `append` a no-op.
  """

  def __init__(self, path: str, step_key: str = "step", writable: bool = True):
    self.path = path
    self.step_key = step_key
    self.writable = writable

  def records(self) -> List[Dict]:
    return read_records(self.path)

  def append(self, records: Iterable[Dict]):
    """Appends ``records`` (each with its step) and flushes them to disk."""
    records = list(records)
    for record in records:
      if self.step_key not in record:
        raise ValueError(f"A record of {self.path} has no {self.step_key!r}: {record}")
    if not records or not self.writable:
      return
    os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
    with open(self.path, "a") as stream:
      for record in records:
        stream.write(json.dumps(record, allow_nan=False) + "\n")
      stream.flush()
      os.fsync(stream.fileno())

  def truncate(self, step: Optional[int]):
    """Keeps the records of steps <= ``step`` (None: none), and drops a torn last line."""
    if not os.path.exists(self.path):
      return
    records = self.records()
    kept = [] if step is None else [r for r in records if r[self.step_key] <= step]
    with open(self.path, "rb") as stream:
      intact = stream.read().endswith(b"\n") or os.path.getsize(self.path) == 0
    if len(kept) == len(records) and intact:
      return
    atomic.write_text(self.path, "".join(json.dumps(r, allow_nan=False) + "\n" for r in kept))
