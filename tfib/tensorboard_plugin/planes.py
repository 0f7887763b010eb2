"""Information planes from tfib's scalar summaries: pure Python, no TensorBoard server.

tfib writes, per run (values in bits, step = epochs done):

    mi/<estimator>/<layer>/<x>              the plane's coordinates, x = I(X;T), y = I(T;Y)
    mi/<estimator>/<layer>/<y>
    mi_std/<estimator>/<layer>/<x|y>        standard deviation over seeds (an aggregate run)
    mi_ci/<estimator>/<layer>/<x|y>_low     bounds of a neural estimate's confidence interval
    mi_ci/<estimator>/<layer>/<x|y>_high
    mi_failed/<estimator>/<layer>/<x|y>     an estimate flagged as failed (then absent from mi/)
    mi_ceiling/<estimator>/<x|y>            the ceilings log2 N (x) and H(Y) (y)

A quantity is on the x axis when its name starts with "I_X" (I_XT; the decoder's I_XH) and on
the y axis when it starts with "I_" and ends with "Y" (I_TY, I_HY); any other quantity is no
plane coordinate and is ignored. <layer> has no "/"; <estimator> may have any characters.

`plane` pairs x and y by step into the points of one path per (run, layer), as the
dashboard draws them.
"""
import collections
import dataclasses
import math
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

__all__ = ["Tag", "axis_symbol", "estimators", "parse_tag", "plane", "select_tags"]

Series = Iterable[Tuple[int, float]]  # (step, value) pairs of one scalar tag.

_PER_LAYER = ("mi", "mi_std", "mi_ci", "mi_failed")
_CEILING = "mi_ceiling"
_CI_BOUNDS = ("low", "high")
_COORDINATES = ("mi", "mi_failed")  # The kinds that place a point.
_CEILING_NAMES = {"x": "log2 N", "y": "H(Y)"}


@dataclasses.dataclass(frozen=True)
class Tag:
  """One plane tag, parsed.

  Attributes:
    kind: "mi", "mi_std", "mi_ci", "mi_failed" or "mi_ceiling".
    estimator: the estimator label.
    layer: the layer; None for a ceiling.
    quantity: the quantity's name, "I_XT" (without a CI's "_low" / "_high").
    axis: "x" or "y".
    bound: "low" or "high" for a CI bound, else None.
  """
  kind: str
  estimator: str
  layer: Optional[str]
  quantity: str
  axis: str
  bound: Optional[str] = None


def _axis(quantity: str) -> Optional[str]:
  if quantity.startswith("I_X"):
    return "x"
  if quantity.startswith("I_") and quantity.endswith("Y"):
    return "y"
  return None


def parse_tag(tag: str) -> Optional[Tag]:
  """The parsed plane tag, or None when ``tag`` is no plane tag (e.g. "training/loss")."""
  kind, _, rest = tag.partition("/")
  parts = rest.split("/")
  if kind in _PER_LAYER and len(parts) >= 3:
    estimator, layer, quantity = "/".join(parts[:-2]), parts[-2], parts[-1]
  elif kind == _CEILING and len(parts) >= 2:
    estimator, layer, quantity = "/".join(parts[:-1]), None, parts[-1]
  else:
    return None
  bound = None
  if kind == "mi_ci":
    quantity, _, bound = quantity.rpartition("_")
    if bound not in _CI_BOUNDS:
      return None
  axis = _axis(quantity)
  if axis is None or not estimator or layer == "":
    return None
  return Tag(kind, estimator, layer, quantity, axis, bound)


def _natural_key(name: str):
  """Sorts "h2" before "h10"."""
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def estimators(tags_by_run: Mapping[str, Iterable[str]]) -> Dict[str, List[str]]:
  """{estimator: [run, ...]} of the runs that hold coordinates (mi/, mi_failed/) of each."""
  runs = collections.defaultdict(set)
  for run, tags in tags_by_run.items():
    for tag in tags:
      parsed = parse_tag(tag)
      if parsed is not None and parsed.kind in _COORDINATES:
        runs[parsed.estimator].add(run)
  return {name: sorted(runs[name], key=_natural_key) for name in sorted(runs, key=_natural_key)}


def select_tags(tags: Iterable[str], estimator: str) -> List[str]:
  """The plane tags of ``estimator`` among ``tags``, sorted."""
  return sorted(tag for tag in tags
                if (parsed := parse_tag(tag)) is not None and parsed.estimator == estimator)


def axis_symbol(quantity: str) -> str:
  """"I_XT" → "I(X;T)", "I_HY" → "I(H;Y)"; the name itself when it is no such pair."""
  symbols = quantity[2:]
  if len(symbols) < 2:
    return quantity
  if _axis(quantity) == "x":
    return f"I(X;{symbols[1:]})"
  return f"I({symbols[:-1]};Y)"


class _Layer:
  """The series of one (run, layer), by kind and axis: {(kind, axis, bound): {step: value}}."""

  def __init__(self):
    self.series = collections.defaultdict(dict)

  def add(self, tag: Tag, series: Series):
    values = self.series[(tag.kind, tag.axis, tag.bound)]
    for step, value in series:
      values[int(step)] = float(value)

  def get(self, kind: str, axis: str, bound: Optional[str] = None) -> Dict[int, float]:
    return self.series.get((kind, axis, bound), {})

  def points(self) -> Tuple[List[Dict], int]:
    """The points (by epoch) with both coordinates, and how many were not finite."""
    coordinates, failed = {}, {}
    for axis in ("x", "y"):
      measured, flagged = self.get("mi", axis), self.get("mi_failed", axis)
      coordinates[axis] = {**flagged, **measured}  # An estimate in mi/ did not fail.
      failed[axis] = set(flagged) - set(measured)
    points, dropped = [], 0
    for step in sorted(set(coordinates["x"]) & set(coordinates["y"])):
      x, y = coordinates["x"][step], coordinates["y"][step]
      if not (math.isfinite(x) and math.isfinite(y)):
        dropped += 1
        continue
      point = {"epoch": step, "x": x, "y": y}
      for axis in ("x", "y"):
        std = self.get("mi_std", axis).get(step)
        if std is not None:
          point[f"{axis}_std"] = std
        low, high = (self.get("mi_ci", axis, bound).get(step) for bound in _CI_BOUNDS)
        if low is not None and high is not None:
          point.setdefault("ci", {})[axis] = [low, high]
      flagged_axes = [axis for axis in ("x", "y") if step in failed[axis]]
      if flagged_axes:
        point["failed"] = flagged_axes
      points.append(point)
    return points, dropped


def _quantities(tags: Sequence[Tag], estimator: str) -> Dict[str, str]:
  """{axis: quantity name} of the coordinates; one name per axis."""
  names = collections.defaultdict(set)
  for tag in tags:
    if tag.kind in _COORDINATES:
      names[tag.axis].add(tag.quantity)
  for axis in ("x", "y"):
    if len(names[axis]) > 1:
      raise ValueError(f"Estimator {estimator!r} has several {axis} quantities "
                       f"({', '.join(sorted(names[axis]))}): no single information plane.")
  if not names["x"] or not names["y"]:
    raise ValueError(f"No information-plane scalars (mi/{estimator}/<layer>/I_X... and "
                     f"I_...Y) in the runs given.")
  return {axis: names[axis].pop() for axis in ("x", "y")}


def plane(series_by_run: Mapping[str, Mapping[str, Series]], estimator: str) -> Dict:
  """The information plane of ``estimator`` in each run.

  Args:
    series_by_run: {run: {tag: [(step, value), ...]}}; tags of other estimators and tags
      that are no plane tags are ignored.
    estimator: the estimator label.

  Returns:
    {"estimator": ..., "axes": {"x": {"quantity", "symbol", "label"}, "y": ...},
     "runs": [{"run": ..., "layers": [{"layer": ..., "points": [point, ...]}]}],
     "ceilings": [{"axis", "name", "value"}], "epochs": [...], "dropped": n}.
    A point is {"epoch", "x", "y"} and, where recorded at its epoch, "x_std" / "y_std",
    "ci": {axis: [low, high]}, and "failed": the axes whose estimate was flagged failed.
    Points exist where both coordinates do; "dropped" counts those left out for a value
    that is not finite (NaN or infinite: no place in the plane). Runs and layers are in
    natural order ("h2" before "h10"); "epochs" is the union of the points' epochs;
    "ceilings" the distinct last values of each ceiling over the runs.

  Raises:
    ValueError: when no run has both coordinates of ``estimator``, or one axis has
      several quantities.
  """
  parsed = {run: [(p, series) for tag, series in tags.items()
                  if (p := parse_tag(tag)) is not None and p.estimator == estimator]
            for run, tags in series_by_run.items()}
  axes = _quantities([tag for tags in parsed.values() for tag, _ in tags], estimator)
  runs, ceilings, epochs, dropped = [], collections.defaultdict(set), set(), 0
  for run in sorted(parsed, key=_natural_key):
    layers = collections.defaultdict(_Layer)
    for tag, series in parsed[run]:
      if tag.quantity != axes[tag.axis]:
        continue
      if tag.kind == _CEILING:
        last = max(((int(step), float(value)) for step, value in series), default=None)
        if last is not None and math.isfinite(last[1]):
          ceilings[tag.axis].add(last[1])
      else:
        layers[tag.layer].add(tag, series)
    drawn = []
    for layer in sorted(layers, key=_natural_key):
      points, left_out = layers[layer].points()
      dropped += left_out
      if points:
        drawn.append({"layer": layer, "points": points})
        epochs.update(point["epoch"] for point in points)
    if drawn:
      runs.append({"run": run, "layers": drawn})
  return {
      "estimator": estimator,
      "axes": {axis: {"quantity": name, "symbol": axis_symbol(name),
                      "label": f"{axis_symbol(name)} [bits]"} for axis, name in axes.items()},
      "runs": runs,
      "ceilings": [{"axis": axis, "name": _CEILING_NAMES[axis], "value": value}
                   for axis in ("x", "y") for value in sorted(ceilings[axis])],
      "epochs": sorted(epochs),
      "dropped": dropped,
  }
