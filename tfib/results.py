"""The results file: one JSON record per (estimator, layer, epoch), appended as they come.

JSON lines, so an interrupted run leaves a readable file and a resumed run appends to it;
a record already present is never written twice.
"""
import json
import os
from typing import Dict, Iterable, List, Tuple

Key = Tuple[str, str, int]


def record_key(record: Dict) -> Key:
  return record["estimator_label"], record["layer"], int(record["epoch"])


def read_records(path: str) -> List[Dict]:
  """All records of a results file (empty if the file does not exist)."""
  if not os.path.exists(path):
    return []
  records = []
  with open(path) as stream:
    for line_number, line in enumerate(stream, 1):
      if not line.strip():
        continue
      try:
        records.append(json.loads(line))
      except json.JSONDecodeError:
        # Only a line cut off by a crash can be broken, and only the last one.
        if stream.readline():
          raise ValueError(f"{path}:{line_number} is not a JSON record.") from None
  return records


class ResultsFile:
  """Appends records to a JSON-lines file, skipping keys it already holds."""

  def __init__(self, path: str):
    self.path = path
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    self._keys = {record_key(record) for record in read_records(path)}
    self._drop_torn_last_line()

  def __contains__(self, key: Key) -> bool:
    return key in self._keys

  def append(self, records: Iterable[Dict]):
    fresh = [record for record in records if record_key(record) not in self._keys]
    if not fresh:
      return
    with open(self.path, "a") as stream:
      for record in fresh:
        stream.write(json.dumps(record) + "\n")
      stream.flush()
      os.fsync(stream.fileno())
    self._keys.update(record_key(record) for record in fresh)

  def _drop_torn_last_line(self):
    if not os.path.exists(self.path):
      return
    with open(self.path, "rb+") as stream:
      data = stream.read()
      if data and not data.endswith(b"\n"):
        stream.truncate(data.rfind(b"\n") + 1)
