"""The information plane in TensorBoard: tag names, the scalars of results records, the
custom-scalars layout.

Tags: ``mi/<estimator>/<layer>/I_XT`` and ``mi/<estimator>/<layer>/I_TY`` (bits, step =
epochs done); information-plane images under ``infoplane/<estimator>``; a custom-scalars
layout with one category per estimator and the layers of each quantity in one chart.
"""
import re
from typing import Dict, Iterable, List, Sequence, Tuple

import tensorflow as tf

__all__ = ["mi_tag", "record_points", "write_layout"]

QUANTITIES = (("I_XT", "i_xt"), ("I_TY", "i_ty"))


def mi_tag(estimator_label: str, layer: str, quantity: str) -> str:
  """The scalar tag of one quantity ("I_XT" or "I_TY")."""
  return f"mi/{estimator_label}/{layer}/{quantity}"


def record_points(records: Sequence[Dict], prefix: str = "mi") -> List[Tuple[str, float, int]]:
  """The (tag, value, step) scalar points of results records (see the module docstring);
  ``prefix`` replaces "mi" (the aggregate writes its spread under "mi_std")."""
  points, ceilings = [], {}
  for record in records:
    label, layer, step = record["estimator_label"], record["layer"], int(record["epoch"])
    kind = f"{prefix}_failed" if record.get("failed") else prefix
    for quantity, key in QUANTITIES:
      value = record.get(key)
      if value is None:
        continue
      points.append((f"{kind}/{label}/{layer}/{quantity}", value, step))
      interval = (record.get("extras") or {}).get(f"{key}_ci")
      if interval is not None and prefix == "mi":
        points += [(f"mi_ci/{label}/{layer}/{quantity}_low", interval[0], step),
                   (f"mi_ci/{label}/{layer}/{quantity}_high", interval[1], step)]
    if prefix == "mi":
      ceilings[(label, step)] = (record.get("log2_n"), record.get("h_y"))
  for (label, step), (log2_n, h_y) in sorted(ceilings.items()):
    points += [(f"mi_ceiling/{label}/{quantity}", value, step)
               for (quantity, _), value in zip(QUANTITIES, (log2_n, h_y)) if value is not None]
  return points


def diagnostic_points(records: Sequence[Dict]) -> List[Tuple[str, float, int]]:
  """(tag, value, step) of diagnostics records: numbers as they are, the bin-count sweep as
  ``diagnostics/<layer>/I_XT_<bins>_bins``."""
  points = []
  for record in records:
    prefix, step = f"diagnostics/{record['layer']}", int(record["epoch"])
    for name, value in record.items():
      if name in ("layer", "epoch"):
        continue
      if isinstance(value, dict):
        points += [(f"{prefix}/I_XT_{bins}_bins", v, step) for bins, v in value.items()]
      elif value is not None:
        points.append((f"{prefix}/{name}", value, step))
  return points


def write_layout(writer, estimator_labels: Iterable[str], layers: Sequence[str]):
  """A custom-scalars layout (step 0): per estimator and quantity, one chart per layer.

  TensorBoard colors the lines of a chart by run, so a chart holds one layer: its lines
  are the runs (seeds) and can be told apart; the plane itself is the dashboard's.
  """
  from tensorboard.plugins.custom_scalar import layout_pb2  # pylint: disable=g-import-not-at-top
  from tensorboard.plugins.custom_scalar import summary as custom_scalar  # pylint: disable=g-import-not-at-top

  categories = []
  for label in estimator_labels:
    for title, quantity in (("I(X;T)", "I_XT"), ("I(T;Y)", "I_TY")):
      charts = [layout_pb2.Chart(
          title=f"{layer}: {title}",
          multiline=layout_pb2.MultilineChartContent(
              tag=[f"^{re.escape(mi_tag(label, layer, quantity))}$"]))
                for layer in layers]
      categories.append(layout_pb2.Category(title=f"{label}: {title} [bits]", chart=charts))
  with writer.as_default():
    tf.summary.experimental.write_raw_pb(
        custom_scalar.pb(layout_pb2.Layout(category=categories)).SerializeToString(), step=0)
