"""Everything tfib writes to TensorBoard: tag names, the layout, images and hparams.

Tags: ``mi/<estimator>/<layer>/I_XT`` and ``mi/<estimator>/<layer>/I_TY`` (bits, step =
epoch); information-plane images under ``infoplane/<estimator>``; a custom-scalars layout
with one category per estimator and the layers of each quantity overlaid in one chart.
"""
import functools
import glob
import os
from typing import Dict, Iterable, List, Mapping, Sequence, Set, Tuple

import tensorflow as tf

_LAYOUT_TAG = "custom_scalars__config__"


def mi_tag(estimator_label: str, layer: str, quantity: str) -> str:
  """The scalar tag of one quantity ("I_XT" or "I_TY")."""
  return f"mi/{estimator_label}/{layer}/{quantity}"


class ExactlyOnceWriter:
  """A summary writer that writes each (tag, step) at most once, across restarts.

  On creation it reads the event files already in ``logdir``; a point written there before
  (by a run that was killed and is now resumed) is not written again. Scalars are written
  with `tf.summary.write`, the op beneath `tf.summary.scalar`.
  """

  def __init__(self, logdir: str):
    self.logdir = logdir
    self.written: Set[Tuple[str, int]] = written_points(logdir)
    self._writer = tf.summary.create_file_writer(logdir)

  def __contains__(self, point: Tuple[str, int]) -> bool:
    return point in self.written

  def scalars(self, points: Sequence[Tuple[str, float, int]]):
    """Writes (tag, value, step) points not yet written."""
    fresh = [(tag, value, step) for tag, value, step in points
             if (tag, int(step)) not in self.written]
    if not fresh:
      return
    with self._writer.as_default():
      for tag, value, step in fresh:
        tf.summary.write(tag, tf.constant(value, tf.float32), step=step,
                         metadata=_scalar_metadata())
    self.written.update((tag, int(step)) for tag, _, step in fresh)

  def png(self, tag: str, png: bytes, step: int):
    """Writes a PNG image (if not yet written at this step)."""
    if (tag, step) in self.written:
      return
    with self._writer.as_default():
      tf.summary.image(tag, tf.image.decode_png(png, channels=4)[tf.newaxis], step=step)
    self.written.add((tag, step))

  def layout(self, estimator_labels: Iterable[str]):
    """Writes the custom-scalars layout of the MI charts (once)."""
    if (_LAYOUT_TAG, 0) in self.written:
      return
    with self._writer.as_default():
      write_layout(estimator_labels)
    self.written.add((_LAYOUT_TAG, 0))

  def flush(self):
    self._writer.flush()


def record_points(records: Sequence[Dict]) -> List[Tuple[str, float, int]]:
  """The (tag, value, step) scalar points of results records."""
  points = []
  for record in records:
    for quantity, key in (("I_XT", "i_xt"), ("I_TY", "i_ty")):
      if record.get(key) is not None:
        points.append((mi_tag(record["estimator_label"], record["layer"], quantity),
                       record[key], int(record["epoch"])))
  return points


def written_points(logdir: str) -> Set[Tuple[str, int]]:
  """The (tag, step) pairs in the event files directly inside ``logdir``."""
  points = set()
  for path in sorted(glob.glob(os.path.join(glob.escape(logdir), "events.out.tfevents.*"))):
    try:
      for record in tf.data.TFRecordDataset(path):
        event = tf.compat.v1.Event.FromString(record.numpy())
        points.update((value.tag, int(event.step)) for value in event.summary.value)
    except tf.errors.DataLossError:
      pass  # The tail of a file cut off by a crash: the points before it are read.
  return points


@functools.lru_cache(maxsize=1)
def _scalar_metadata():
  """Marks a summary as a scalar for TensorBoard (what tf.summary.scalar attaches)."""
  from tensorboard.plugins.scalar import metadata  # pylint: disable=g-import-not-at-top
  return metadata.create_summary_metadata(display_name=None, description=None)


def write_layout(estimator_labels: Iterable[str]):
  """A custom-scalars layout: per estimator, I(X;T) and I(T;Y) of all layers in one chart."""
  from tensorboard.plugins.custom_scalar import layout_pb2  # pylint: disable=g-import-not-at-top
  from tensorboard.plugins.custom_scalar import summary as custom_scalar  # pylint: disable=g-import-not-at-top

  categories = []
  for label in estimator_labels:
    charts = [
        layout_pb2.Chart(
            title=f"{title} ({label})",
            multiline=layout_pb2.MultilineChartContent(tag=[rf"mi/{label}/.*/{quantity}$"]))
        for title, quantity in (("I(X;T)", "I_XT"), ("I(T;Y)", "I_TY"))
    ]
    categories.append(layout_pb2.Category(title=f"mi/{label}", chart=charts))
  tf.summary.experimental.write_raw_pb(
      custom_scalar.pb(layout_pb2.Layout(category=categories)).SerializeToString(), step=0)


def record_hparams(settings: Mapping):
  """Writes ``settings`` to the hparams dashboard through the default summary writer."""
  from tensorboard.plugins.hparams import api as hparams  # pylint: disable=g-import-not-at-top

  hparams.hparams({key: value if isinstance(value, (bool, int, float, str)) else str(value)
                   for key, value in settings.items()})


def write_hparams(logdir: str, flags: Mapping):
  """Records a run's settings in the hparams dashboard of ``logdir`` (once per logdir)."""
  from tensorboard.plugins.hparams import metadata  # pylint: disable=g-import-not-at-top

  if any(tag == metadata.SESSION_START_INFO_TAG for tag, _ in written_points(logdir)):
    return
  writer = tf.summary.create_file_writer(logdir)
  with writer.as_default():
    record_hparams(flags)
  writer.flush()
