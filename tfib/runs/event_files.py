"""TensorBoard event files of a run: rolled back on resume, and read back.

A run killed after writing some summaries of step k + 1 resumes from the state of step k and
writes them again. Before it does, `truncate_events` rewrites each event file without the
summaries of steps > k (and without a record cut short by the kill), so every (tag, step)
ends up in the event files once. Each file is replaced atomically, so a kill during the
roll back leaves either the old or the new file.
"""
import collections
import os
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.core.util import event_pb2

from tfib.runs import atomic

__all__ = ["event_file_paths", "read_images", "read_scalars", "read_tensors",
           "truncate_events"]

_PREFIX = "events.out.tfevents"


def event_file_paths(logdir: str, skip: Optional[Callable[[str], bool]] = None) -> List[str]:
  """Every event file under ``logdir``, sorted; ``skip(directory)`` prunes subdirectories."""
  paths = []
  for root, directories, files in os.walk(logdir):
    if skip is not None:
      directories[:] = [d for d in directories if not skip(os.path.join(root, d))]
    paths.extend(os.path.join(root, name) for name in files if name.startswith(_PREFIX))
  return sorted(paths)


def _read_records(path: str) -> Tuple[List[bytes], bool]:
  """The complete records of ``path``, and whether a damaged tail was left out."""
  records = []
  try:
    for record in tf.data.TFRecordDataset(path):
      records.append(record.numpy())
  except (tf.errors.DataLossError, tf.errors.OutOfRangeError):
    return records, True
  return records, False


def truncate_events(logdir: str, max_step: Optional[int],
                    skip: Optional[Callable[[str], bool]] = None) -> int:
  """Drops summaries of steps > ``max_step`` (None: all) from the event files under ``logdir``.

  Events that carry no summary (the file-version header) are kept. Returns the number of
  summaries dropped.
  """
  dropped_total = 0
  for path in event_file_paths(logdir, skip):
    records, damaged = _read_records(path)
    kept, dropped = [], 0
    for record in records:
      event = event_pb2.Event.FromString(record)
      if event.HasField("summary") and (max_step is None or event.step > max_step):
        dropped += 1
      else:
        kept.append(record)
    if not dropped and not damaged:
      continue
    with atomic.replacing(path) as temporary:
      with tf.io.TFRecordWriter(temporary) as writer:
        for record in kept:
          writer.write(record)
    dropped_total += dropped
  return dropped_total


def _values(logdir: str):
  for path in event_file_paths(logdir):
    for record in _read_records(path)[0]:
      event = event_pb2.Event.FromString(record)
      for value in event.summary.value:
        yield event.step, value


def read_scalars(logdir: str) -> Dict[str, List[Tuple[int, float]]]:
  """{tag: [(step, value), ...]} of the scalar summaries under ``logdir``, in file order."""
  scalars = collections.defaultdict(list)
  for step, value in _values(logdir):
    if value.metadata.plugin_data.plugin_name == "scalars":
      scalars[value.tag].append((step, float(tf.make_ndarray(value.tensor))))
    elif value.HasField("simple_value"):
      scalars[value.tag].append((step, float(value.simple_value)))
  return dict(scalars)


def read_tensors(logdir: str) -> Dict[str, List[Tuple[int, np.ndarray]]]:
  """{tag: [(step, tensor), ...]} of every tensor summary under ``logdir`` (any plugin)."""
  tensors = collections.defaultdict(list)
  for step, value in _values(logdir):
    if value.HasField("tensor"):
      tensors[value.tag].append((step, tf.make_ndarray(value.tensor)))
  return dict(tensors)


def read_images(logdir: str) -> Dict[str, List[Tuple[int, np.ndarray]]]:
  """{tag: [(step, image [H, W, C] uint8), ...]} of the image summaries under ``logdir``."""
  images = collections.defaultdict(list)
  for step, value in _values(logdir):
    if value.metadata.plugin_data.plugin_name == "images":
      encoded = tf.make_ndarray(value.tensor)  # [width, height, png, png, ...]
      for png in encoded[2:]:
        images[value.tag].append((step, tf.io.decode_png(png).numpy()))
  return dict(images)
