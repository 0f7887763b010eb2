"""What ``tfib-sweep`` runs: Li & Liu's CNN sweeps, with the diagnostics that tell
compression from estimator artefacts.

Li & Liu ("Information bottleneck theory on convolutional neural networks") vary the width,
kernel size, depth, pooling and dense layers of CNNs on MNIST and Fashion-MNIST. In their
results every convolutional layer sits at I(X;T) = log2 N and I(T;Y) = H(Y) from the first
epoch to the last: every image has its own binned code, the estimator is saturated and can
show nothing. A sweep here runs every grid point as an information-plane experiment
(`tfib.experiments.infoplane`, with `tfib.infoplane.diagnostics`) and summarises each layer
so that saturation cannot be missed:

* **saturated** — I(X;T) within 0.01 bit of log2 N at every recorded epoch of training
  (the initialisation, epoch 0, aside): "this layer's I(X;T) cannot move";
* **compression** — observed only where the estimate is below its ceiling: I(X;T) falls by
  more than ``COMPRESSION_BITS`` from its maximum (taken below the ceiling) to the end.

Grid: ``"width=1,3,6,12;kernel=3"`` — parameters separated by ";", values by ","; every
combination is a grid point. Parameters: width (filters per convolution), kernel (kernel
size), depth (convolutions), pooling (on/off: 2×2 max-pooling after each convolution),
dense (hidden dense layers of ``dense_units``), activation (tanh/relu).

Layout of ``logdir``::

    manifest.json                the sweep (a run of its own)
    <point>/                     one information-plane experiment per grid point, e.g.
                                 width=6,kernel=3/seed_0/... (resumable)
    summary/                     derived, recomputed every time: summary.json, one figure
                                 per swept parameter (PNG and TensorBoard image), and per
                                 point a TensorBoard run with its hparams and metrics
"""
import dataclasses
import itertools
import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfib.experiments import infoplane
from tfib.infoplane import plotting
from tfib.infoplane.callback import RESULTS
from tfib.models import presets
from tfib.runs import atomic, tensorboard
from tfib.runs.journal import read_records
from tfib.runs.run import Run

__all__ = ["COMPRESSION_BITS", "PARAMETERS", "SweepConfig", "parse_grid", "point_config",
           "run", "summarise_layer"]

PROGRAM = "tfib-sweep"
COMPRESSION_BITS = 0.05
_ON = {"on": True, "true": True, "yes": True, "1": True,
       "off": False, "false": False, "no": False, "0": False}


def _integer(low: int):
  def parse(text):
    value = int(text)
    if value < low:
      raise ValueError
    return value
  return parse


def _switch(text):
  return _ON[text.lower()]


def _activation(text):
  if text not in presets.ACTIVATIONS:
    raise ValueError
  return text


PARAMETERS = {"width": _integer(1), "kernel": _integer(1), "depth": _integer(1),
              "pooling": _switch, "dense": _integer(0), "activation": _activation}
_EXPECTED = {"width": "positive integers", "kernel": "positive integers",
             "depth": "positive integers", "pooling": "on or off", "dense": "integers >= 0",
             "activation": "tanh or relu"}


def parse_grid(spec: str) -> List[Dict]:
  """The grid points of ``spec`` ("width=1,3;kernel=3"), in order; ValueError names what is
  malformed, unknown or out of range."""
  if not spec.strip():
    raise ValueError("The grid is empty; give e.g. --grid='width=1,3,6,12;kernel=3'.")
  axes = {}
  for part in spec.split(";"):
    name, equals, values = part.strip().partition("=")
    name = name.strip()
    if not equals or not name or not values.strip():
      raise ValueError(f"Malformed grid part {part.strip()!r}: expected name=value,value,...")
    if name not in PARAMETERS:
      raise ValueError(f"Unknown grid parameter {name!r}; known: {', '.join(PARAMETERS)}.")
    if name in axes:
      raise ValueError(f"Grid parameter {name!r} is given twice.")
    parsed = []
    for value in values.split(","):
      try:
        parsed.append(PARAMETERS[name](value.strip()))
      except (ValueError, KeyError):
        raise ValueError(f"Grid parameter {name}: {value.strip()!r} is not one of "
                         f"{_EXPECTED[name]}.") from None
    if len(set(parsed)) != len(parsed):
      raise ValueError(f"Grid parameter {name!r} repeats a value: {values}.")
    axes[name] = parsed
  return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def point_name(point: Dict) -> str:
  """The directory name of a grid point: "width=6,kernel=3"."""
  return ",".join(f"{name}={'on' if value is True else 'off' if value is False else value}"
                  for name, value in point.items())


@dataclasses.dataclass(frozen=True)
class SweepConfig:
  """A sweep: a base experiment and architecture, and the grid that varies it."""

  base: infoplane.ExperimentConfig
  grid: str = "width=1,3,6,12"
  width: int = 6
  kernel: int = 3
  depth: int = 6
  pooling: bool = False
  dense: int = 0
  dense_units: int = 64
  activation: str = "relu"

  def points(self) -> List[Dict]:
    return parse_grid(self.grid)

  def as_dict(self) -> Dict:
    return dict(dataclasses.asdict(self), base=self.base.as_dict())


def point_config(sweep: SweepConfig, point: Dict) -> infoplane.ExperimentConfig:
  """The information-plane experiment of one grid point."""
  settings = {name: getattr(sweep, name) for name in PARAMETERS}
  settings.update(point)
  cnn = {"filters": [settings["width"]] * settings["depth"],
         "kernel_sizes": [settings["kernel"]] * settings["depth"],
         "pooling": settings["pooling"], "dense": [sweep.dense_units] * settings["dense"],
         "activation": settings["activation"]}
  return dataclasses.replace(sweep.base, model="cnn", cnn=cnn, activation=None,
                             diagnostics=True)


def check(sweep: SweepConfig, input_shape, num_classes: int):
  """Raises ValueError before anything trains: a malformed grid, or a grid point whose
  network does not fit the data."""
  for point in sweep.points():
    try:
      point_config(sweep, point).architecture(input_shape, num_classes)
    except ValueError as error:
      raise ValueError(f"Grid point {point_name(point)}: {error}") from None


def summarise_layer(records: Sequence[Dict]) -> Dict:
  """Saturated / compression of one layer from its records (one estimator, by epoch)."""
  records = sorted(records, key=lambda r: r["epoch"])
  trained = [r for r in records if r["epoch"] > 0] or records
  values = np.array([r["i_xt"] for r in trained])
  pinned = np.array([plotting.at_ceiling(r) for r in trained])
  below = values[~pinned]
  peak = float(below.max()) if below.size else None
  final = float(values[-1])
  saturated = bool(pinned.all())
  compression = peak is not None and not pinned[-1] and peak - final > COMPRESSION_BITS
  if saturated:
    verdict = "saturated: this layer's I(X;T) cannot move"
  elif compression:
    verdict = f"compression observed: I(X;T) fell {peak - final:.3f} bits below its peak"
  else:
    verdict = "no compression observed"
  if pinned.any() and not saturated:
    verdict += f" (at log2 N at {int(pinned.sum())} of {len(pinned)} recorded epochs)"
  return {
      "final_i_xt": final, "final_i_ty": records[-1]["i_ty"], "log2_n": records[-1]["log2_n"],
      "h_y": records[-1]["h_y"], "distinct_fraction": records[-1].get("distinct_fraction"),
      "saturated": saturated, "pinned_epochs": int(pinned.sum()),
      "compression": bool(compression),
      "compression_bits": None if peak is None else peak - final, "verdict": verdict,
  }


def _summarise_point(point_dir: str, seeds: Sequence[int]) -> Optional[Dict]:
  """The summary of a finished grid point (None while it is not)."""
  runs = [os.path.join(point_dir, f"seed_{seed}") for seed in seeds]
  if not all(os.path.exists(os.path.join(r, "summary.json")) for r in runs):
    return None
  records = read_records(os.path.join(runs[0], RESULTS))
  label = records[0]["estimator_label"]
  layers = {}
  for record in records:
    if record["estimator_label"] == label:
      layers.setdefault(record["layer"], []).append(record)
  accuracies = [_read_json(os.path.join(r, "summary.json"))["test_accuracy"] for r in runs]
  return {"estimator": label, "test_accuracy": float(np.mean(accuracies)),
          "layers": {layer: summarise_layer(points) for layer, points in layers.items()}}


def _read_json(path: str) -> Dict:
  with open(path) as stream:
    return json.load(stream)


def run(sweep: SweepConfig, logdir: str, repeats: int = 1, job: Optional[int] = None,
        run_options: Optional[Dict] = None, log=print, inputs=None) -> Dict:
  """Runs the grid points (all, or only point ``job``), then writes the summary of every
  finished point. Returns the summary."""
  x, y = inputs if inputs is not None else infoplane.load_inputs(
      point_config(sweep, sweep.points()[0]))
  check(sweep, x.shape[1:], int(y.max()) + 1)
  points = sweep.points()
  if job is not None and not 0 <= job < len(points):
    raise ValueError(f"--job={job}: the grid has {len(points)} points (0..{len(points) - 1}).")
  options = dict(run_options or {})
  experiment = Run(logdir, PROGRAM, **options)
  experiment.declare("sweep", sweep.as_dict())
  experiment.open()
  options.pop("overwrite", None)
  for index, point in enumerate(points):
    if job is not None and index != job:
      continue
    log(f"grid point {index + 1}/{len(points)}: {point_name(point)}")
    infoplane.run(point_config(sweep, point), os.path.join(logdir, point_name(point)),
                  repeats=repeats, run_options=options, log=log, inputs=(x, y))
  return write_summary(sweep, logdir, repeats)


def write_summary(sweep: SweepConfig, logdir: str, repeats: int) -> Dict:
  """summary/ from the finished grid points (derived: rebuilt whole, then swapped in; jobs
  that finish together take turns, each reading what is done in its turn)."""
  seeds = range(sweep.base.seed, sweep.base.seed + repeats)
  with atomic.rebuilt_directory(os.path.join(logdir, "summary")) as staging:
    points = {point_name(p): (p, _summarise_point(os.path.join(logdir, point_name(p)), seeds))
              for p in sweep.points()}
    done = {name: summary for name, (_, summary) in points.items() if summary}
    summary = {"grid": sweep.grid, "points": {name: dict(summary, parameters=points[name][0])
                                              for name, summary in done.items()},
               "pending": [name for name in points if name not in done]}
    atomic.write_json(os.path.join(staging, "summary.json"), summary)
    for name, point_summary in done.items():
      _write_session(os.path.join(staging, name), points[name][0], point_summary)
    figures = tf.summary.create_file_writer(staging)
    for parameter, png in _figures(sweep, done, points).items():
      atomic.write_bytes(os.path.join(staging, f"sweep_{parameter}.png"), png)
      tensorboard.write_png(figures, f"sweep/{parameter}", png, step=0)
    figures.close()
  return summary


def _write_session(directory: str, point: Dict, summary: Dict):
  """A TensorBoard run for the hparams dashboard: the point's parameters and metrics."""
  writer = tf.summary.create_file_writer(directory)
  metrics = {"sweep/test_accuracy": summary["test_accuracy"]}
  for layer, found in summary["layers"].items():
    metrics[f"sweep/{layer}/final_I_XT"] = found["final_i_xt"]
    if found["final_i_ty"] is not None:
      metrics[f"sweep/{layer}/final_I_TY"] = found["final_i_ty"]
    metrics[f"sweep/{layer}/saturated"] = float(found["saturated"])
  tensorboard.write_hparams(writer, {k: str(v) if isinstance(v, bool) else v
                                     for k, v in point.items()}, metrics=sorted(metrics))
  tensorboard.write_scalars(writer, [(tag, value, 0) for tag, value in metrics.items()])
  writer.close()


def _figures(sweep: SweepConfig, done: Dict, points: Dict) -> Dict[str, bytes]:
  """Per swept parameter with several values: final I(X;T) and I(T;Y) against it."""
  axes = parse_grid(sweep.grid)
  swept = [name for name in axes[0] if len({p[name] for p in axes}) > 1]
  return {name: plotting.sweep_figure(name, [
      (points[point][0][name], summary) for point, summary in done.items()])
          for name in swept if done}
