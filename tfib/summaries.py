"""Everything tfib writes to TensorBoard: tag names, the layout, images and hparams.

Tags: ``mi/<estimator>/<layer>/I_XT`` and ``mi/<estimator>/<layer>/I_TY`` (bits, step =
epoch); information-plane images under ``infoplane/<estimator>``; a custom-scalars layout
with one category per estimator and the layers of each quantity overlaid in one chart.
"""
import functools
from typing import Dict, Iterable, Mapping, Sequence, Tuple

import tensorflow as tf


def mi_tag(estimator_label: str, layer: str, quantity: str) -> str:
  """The scalar tag of one quantity ("I_XT" or "I_TY")."""
  return f"mi/{estimator_label}/{layer}/{quantity}"


def write_records(records: Sequence[Dict]):
  """Writes the scalars of results records to the default summary writer.

  One compiled call per set of tags: at every recorded epoch the same tags are written, and
  a single graph call is far cheaper than one eager summary op per scalar.
  """
  tags, values, steps = [], [], []
  for record in records:
    for quantity, key in (("I_XT", "i_xt"), ("I_TY", "i_ty")):
      if record.get(key) is not None:
        tags.append(mi_tag(record["estimator_label"], record["layer"], quantity))
        values.append(record[key])
        steps.append(int(record["epoch"]))
  if tags:
    _scalar_writer(tuple(tags))(tf.constant(values, tf.float32), tf.constant(steps, tf.int64))


@functools.lru_cache(maxsize=64)
def _scalar_writer(tags: Tuple[str, ...]):

  @tf.function
  def write(values, steps):
    for index, tag in enumerate(tags):
      tf.summary.scalar(tag, values[index], step=steps[index])

  return write


def write_png(tag: str, png: bytes, step: int):
  """Writes a PNG image to the default summary writer."""
  image = tf.image.decode_png(png, channels=4)[tf.newaxis]
  tf.summary.image(tag, image, step=step)


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


def write_hparams(flags: Mapping):
  """Records a run's settings in the hparams dashboard."""
  from tensorboard.plugins.hparams import api as hparams  # pylint: disable=g-import-not-at-top

  values = {key: value if isinstance(value, (bool, int, float, str)) else str(value)
            for key, value in flags.items()}
  hparams.hparams(values)
