"""One information-plane experiment: a preset network trained on a dataset, its layers' MI
recorded on a schedule, over one or many seeds, resumable at any point.

This is what ``tfib-infoplane`` runs; the binary only turns flags into an
`ExperimentConfig`. Layout of ``logdir``::

    manifest.json     the experiment (a run of its own, `tfib.runs.Run`)
    seeds.jsonl       one record per finished seed: kept or discarded, with its summary
    seed_<n>/         the run of seed n: results.jsonl, TensorBoard events, PNGs,
                      summary.json, resume state
    aggregate/        with several seeds: their mean ± sd (recomputed every time)

Each seed is a ``model.fit`` run with `tfib.callbacks.RunCheckpoint`, `TrainingScalars` and
`InformationPlane` on one `tfib.runs.Run`; its data order is a function of (seed, epoch)
(`tfib.data.epoch_order`). Killed anywhere, the same call continues the seed where its last
resume state was committed, rolls back what came after, and replays it: the finished run
equals the uninterrupted one.
"""
import dataclasses
import os
import time
from typing import Dict, List, Optional, Sequence

import keras
import numpy as np

from tfib import data
from tfib.infoplane import schedules
from tfib.infoplane.aggregate import aggregate_runs
from tfib.infoplane.callback import InformationPlane
from tfib.infoplane.diagnostics import LayerDiagnostics
from tfib.models import presets
from tfib.data import epoch_order
from tfib.runs import atomic, tensorboard
from tfib.runs.crash_points import crash_point
from tfib.runs.keras_callbacks import FitProgress, RunCheckpoint, TrainingScalars
from tfib.runs.run import Run

__all__ = ["ExperimentConfig", "PROGRAM", "default_estimators", "load_inputs", "run",
           "train_seed"]

PROGRAM = "tfib-infoplane"
SEEDS = "seeds.jsonl"
SUBSET_SEED = 20200101  # The same subset for every seed and run.


def default_estimators(bits: int) -> tuple:
  """What the default run records: IDNNs binning; a quantized network also exactly."""
  return ("binning",) if bits == 32 else ("binning", f"exact:bits={bits}")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  """What defines an information-plane experiment (refused if a run holds another)."""

  model: str = "szt-tanh"  # A preset name, or "cnn" with its `cnn` architecture.
  activation: Optional[str] = None  # None: the preset's own.
  cnn: Optional[Dict] = None  # For model="cnn": `tfib.models.presets.cnn` arguments.
  bits: int = 32
  dataset: str = "szt"
  max_examples: int = 0  # > 0: a fixed random subset of the dataset's inputs.
  epochs: int = 2000
  batch_size: int = 512
  learning_rate: float = 4e-4
  optimizer: str = "adam"
  train_fraction: float = 0.85
  estimators: Sequence[str] = ("binning",)
  schedule: str = "log"
  schedule_points: int = 400
  every: int = 10
  checkpoint_every: int = 50
  seed: int = 0  # Of the first run; seed + 1, ... follow.
  min_accuracy: float = 0.0
  diagnostics: bool = False  # `tfib.infoplane.diagnostics`, bin-count sweep at 0 and the end.

  def recorded_epochs(self) -> np.ndarray:
    if self.schedule == "log":
      return schedules.log_spaced_epochs(self.epochs, self.schedule_points)
    return schedules.every_k_epochs(self.epochs, self.every)

  def as_dict(self) -> Dict:
    return dict(dataclasses.asdict(self), estimators=list(self.estimators))

  def architecture(self, input_shape=None, num_classes=None) -> presets.Preset:
    """The network's `Preset` (a CNN's needs the data's input shape and class count)."""
    if self.model != "cnn":
      spec = presets.preset(self.model)
      return dataclasses.replace(spec, activation=self.activation or spec.activation)
    if self.cnn is None:
      raise ValueError("model 'cnn' needs its architecture (config.cnn).")
    return presets.cnn(input_shape, num_classes, **self.cnn)


def load_inputs(config: ExperimentConfig):
  """All inputs (float32, images scaled to [0, 1]) and labels of the dataset — or the fixed
  random subset of ``config.max_examples`` — checked to fit the network."""
  x, y = data.load(config.dataset, "train")
  if config.dataset in data.TFDS:
    x_test, y_test = data.load(config.dataset, "test")
    x, y = np.concatenate([x, x_test]), np.concatenate([y, y_test])
  if 0 < config.max_examples < len(x):
    keep = np.sort(np.random.default_rng(SUBSET_SEED).permutation(len(x))[:config.max_examples])
    x, y = x[keep], y[keep]
  if config.model == "cnn" and x.ndim == 3:
    x = x[..., np.newaxis]
  spec = config.architecture(x.shape[1:], int(y.max()) + 1)
  if tuple(x.shape[1:]) != tuple(spec.input_shape):
    raise ValueError(f"Dataset {config.dataset!r} has inputs of shape {x.shape[1:]}, but model "
                     f"{config.model!r} takes {spec.input_shape}.")
  if y.max() >= spec.num_classes:
    raise ValueError(f"Dataset {config.dataset!r} has {y.max() + 1} classes, model "
                     f"{config.model!r} predicts {spec.num_classes}.")
  return data.to_float(x), y.astype(np.int32)


def split(num_examples: int, train_fraction: float, seed: int):
  """(train indices, held-out indices) of a seed, both sorted."""
  order = np.random.default_rng(seed).permutation(num_examples)
  train = np.sort(order[:max(1, int(round(train_fraction * num_examples)))])
  return train, np.setdiff1d(np.arange(num_examples), train)


def _optimizer(config: ExperimentConfig):
  if config.optimizer == "adam":
    return keras.optimizers.Adam(config.learning_rate)
  return keras.optimizers.SGD(config.learning_rate)


def train_seed(config: ExperimentConfig, seed: int, run_dir: str, x, y,
               run_options: Optional[Dict] = None) -> Dict:
  """Trains one seed in ``run_dir`` (continuing a killed run there); returns its summary."""
  run = Run(run_dir, PROGRAM, **(run_options or {}))
  run.declare("experiment", config.as_dict())
  run.declare("seed", {"seed": seed})
  keras.utils.set_random_seed(seed)
  train, held_out = split(len(x), config.train_fraction, seed)
  spec = config.architecture(x.shape[1:], int(y.max()) + 1)
  model = presets.build_preset(spec, config.bits, seed, config.model)
  model.compile(_optimizer(config), "sparse_categorical_crossentropy", metrics=["accuracy"])

  fit_callbacks = [TrainingScalars(run)]
  plane = None
  if config.estimators:
    layers = presets.information_plane_layers(model)
    diagnostics = None
    if config.diagnostics:
      diagnostics = LayerDiagnostics(
          tanh_layers=[l for l in layers if l != "output"] if spec.activation == "tanh" else (),
          sweep_epochs=(0, config.epochs))
    plane = InformationPlane(layers, x, y, list(config.estimators), config.recorded_epochs(),
                             run=run, diagnostics=diagnostics, verbose=0)
    fit_callbacks.append(plane)
  fit_callbacks.append(FitProgress(plane.describe_latest if plane else None))
  checkpoint = RunCheckpoint(run, every=config.checkpoint_every)
  fit_callbacks.append(checkpoint)
  initial = checkpoint.restore(model)
  if run.resumed_step is None:
    tensorboard.write_hparams(run.writer(), dict(config.as_dict(), seed=seed))

  dataset, steps = epoch_order.fit_dataset(x[train], y[train], config.batch_size, seed,
                                           config.epochs, initial)
  start = time.perf_counter()
  model.fit(dataset, epochs=config.epochs, initial_epoch=initial, steps_per_epoch=steps,
            shuffle=False, verbose=0, callbacks=fit_callbacks)
  seconds = time.perf_counter() - start
  crash_point("seed_trained")
  train_accuracy = model.evaluate(x[train], y[train], batch_size=8192, verbose=0)[1]
  held_out_accuracy = (model.evaluate(x[held_out], y[held_out], batch_size=8192, verbose=0)[1]
                       if len(held_out) else None)
  information_seconds = plane.seconds if plane else 0.0
  summary = {
      "seed": seed, "run_dir": run.path, "resumed_at_epoch": initial,
      "train_accuracy": float(train_accuracy),
      "test_accuracy": None if held_out_accuracy is None else float(held_out_accuracy),
      "seconds_training": seconds - information_seconds,
      "seconds_information_plane": information_seconds,
      "seconds_by_estimator": dict(plane.seconds_by_estimator) if plane else {},
  }
  run.close()
  if run.chief:
    atomic.write_json(os.path.join(run.path, "summary.json"), summary)
  return summary


def run(config: ExperimentConfig, logdir: str, repeats: int = 1, max_restarts: int = 10,
        run_options: Optional[Dict] = None, log=print, inputs=None) -> Dict[str, List]:
  """Runs seeds ``config.seed``, ``config.seed`` + 1, ... until ``repeats`` are kept.

  A seed whose final training accuracy stays below ``config.min_accuracy`` did not learn;
  as Lorenzen et al. do, it is discarded and the next seed is run instead (at most
  ``max_restarts`` times). ``seeds.jsonl`` lists kept and discarded seeds. Killed at any
  point, the same call continues at the seed and epoch it reached. With several seeds,
  ``<logdir>/aggregate`` gets the mean and spread per layer and epoch of the first
  ``repeats`` kept seeds, recomputed from their results (more repeats later recompute it).
  ``inputs``: (x, y) from `load_inputs`, if already loaded.

  Returns {"kept": [summaries], "discarded": [summaries], "aggregate": {label: PNG}}.
  """
  x, y = inputs if inputs is not None else load_inputs(config)
  options = dict(run_options or {})
  experiment = Run(logdir, PROGRAM, **options)
  experiment.declare("experiment", config.as_dict())
  experiment.open()
  options.pop("overwrite", None)  # The experiment's directory was cleared already.
  seeds = experiment.journal(SEEDS)
  decided = seeds.records()
  while sum(r["kept"] for r in decided) < repeats:
    discarded = sum(not r["kept"] for r in decided)
    if discarded > max_restarts:
      raise RuntimeError(f"{discarded} seeds did not reach training accuracy "
                         f"{config.min_accuracy}; giving up (raise --max_restarts or lower "
                         "--min_accuracy).")
    seed = config.seed + len(decided)
    log(f"seed {seed}: training {config.model} on {config.dataset}")
    summary = train_seed(config, seed, os.path.join(logdir, f"seed_{seed}"), x, y, options)
    kept = summary["train_accuracy"] >= config.min_accuracy
    if not kept:
      log(f"seed {seed}: training accuracy {summary['train_accuracy']:.3f} < "
          f"{config.min_accuracy}: discarded, restarting with the next seed")
    record = {"step": len(decided), "kept": kept, **summary}
    seeds.append([record])
    decided.append(record)
    crash_point("seed_decided")
  kept = [r for r in decided if r["kept"]][:repeats]
  result = {"kept": kept, "discarded": [r for r in decided if not r["kept"]], "aggregate": {}}
  if repeats > 1:
    result["aggregate"] = aggregate_runs([os.path.join(logdir, f"seed_{r['seed']}") for r in kept],
                                         os.path.join(logdir, "aggregate"),
                                         title=f"{config.model}, {repeats} seeds")
  return result
