"""The information plane in TensorBoard: tag names, the scalars of results records, the
custom-scalars layout.

Tags: ``mi/<estimator>/<layer>/I_XT`` and ``mi/<estimator>/<layer>/I_TY`` (bits, step =
epochs done); information-plane images under ``infoplane/<estimator>``; a custom-scalars
layout with one category per estimator and the layers of each quantity in one chart.
"""
from typing import Dict, Iterable, List, Sequence, Tuple

import tensorflow as tf

__all__ = ["mi_tag", "record_points", "write_layout"]

QUANTITIES = (("I_XT", "i_xt"), ("I_TY", "i_ty"))


def mi_tag(estimator_label: str, layer: str, quantity: str) -> str:
  """The scalar tag of one quantity ("I_XT" or "I_TY")."""
  return f"mi/{estimator_label}/{layer}/{quantity}"


def record_points(records: Sequence[Dict], prefix: str = "mi") -> List[Tuple[str, float, int]]:
  """The (tag, value, step) scalar points of results records (None values are skipped)."""
  points = []
  for record in records:
    for quantity, key in QUANTITIES:
      if record.get(key) is not None:
        tag = mi_tag(record["estimator_label"], record["layer"], quantity)
        points.append((prefix + tag[2:], record[key], int(record["epoch"])))
  return points


def write_layout(writer, estimator_labels: Iterable[str]):
  """A custom-scalars layout (step 0): per estimator, I(X;T) and I(T;Y) of all layers."""
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
  with writer.as_default():
    tf.summary.experimental.write_raw_pb(
        custom_scalar.pb(layout_pb2.Layout(category=categories)).SerializeToString(), step=0)
