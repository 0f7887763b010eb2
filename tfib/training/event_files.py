"""TensorBoard event files of a run: rolled back on resume, and read back.

A run killed during epoch k+1 may already have written some of that epoch's summaries.
Resuming from the state after epoch k writes them again, so before it does,
`truncate_events` rewrites each event file without the summaries of steps > k (and without
a record cut short by the kill). Each file is replaced atomically (temporary file, then
``os.replace``), so a kill during the rollback leaves either the old or the new file.
"""
import collections
import os
from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.core.util import event_pb2

__all__ = ["event_file_paths", "read_images", "read_scalars", "truncate_events"]

_PREFIX = "events.out.tfevents"


def event_file_paths(logdir: str) -> List[str]:
  """Every event file under ``logdir``, sorted."""
  paths = []
  for root, _, files in os.walk(logdir):
    paths.extend(os.path.join(root, name) for name in files if name.startswith(_PREFIX))
  return sorted(paths)


def _read_events(path: str) -> Tuple[List[bytes], bool]:
  """The complete records of ``path``, and whether a damaged tail was left out."""
  records = []
  try:
    for record in tf.data.TFRecordDataset(path):
      records.append(record.numpy())
  except (tf.errors.DataLossError, tf.errors.OutOfRangeError):
    return records, True
  return records, False


def truncate_events(logdir: str, max_step: int) -> int:
  """Drops summaries with step > ``max_step`` from the event files under ``logdir``.

  Events that carry no summary (the file-version header) are kept. Returns the number of
  summary events dropped.
  """
  dropped_total = 0
  for path in event_file_paths(logdir):
    records, damaged = _read_events(path)
    kept, dropped = [], 0
    for record in records:
      event = event_pb2.Event.FromString(record)
      if event.HasField("summary") and event.step > max_step:
        dropped += 1
      else:
        kept.append(record)
    if not dropped and not damaged:
      continue
    temporary = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    with tf.io.TFRecordWriter(temporary) as writer:
      for record in kept:
        writer.write(record)
    os.replace(temporary, path)
    dropped_total += dropped
  return dropped_total


def _values(logdir: str):
  for path in event_file_paths(logdir):
    for record in _read_events(path)[0]:
      event = event_pb2.Event.FromString(record)
      for value in event.summary.value:
        yield event.step, value


def read_scalars(logdir: str) -> Dict[str, List[Tuple[int, float]]]:
  """{tag: [(step, value), ...]} of the TF2 scalar summaries under ``logdir``, in file order."""
  scalars = collections.defaultdict(list)
  for step, value in _values(logdir):
    if value.metadata.plugin_data.plugin_name == "scalars":
      scalars[value.tag].append((step, float(tf.make_ndarray(value.tensor))))
    elif value.HasField("simple_value"):
      scalars[value.tag].append((step, float(value.simple_value)))
  return dict(scalars)


def read_images(logdir: str) -> Dict[str, List[Tuple[int, np.ndarray]]]:
  """{tag: [(step, image [H, W, C] uint8), ...]} of the TF2 image summaries under ``logdir``."""
  images = collections.defaultdict(list)
  for step, value in _values(logdir):
    if value.metadata.plugin_data.plugin_name == "images":
      encoded = tf.make_ndarray(value.tensor)  # [width, height, png, png, ...]
      for png in encoded[2:]:
        images[value.tag].append((step, tf.io.decode_png(png).numpy()))
  return dict(images)
