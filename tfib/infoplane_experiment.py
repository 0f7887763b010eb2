"""One information-plane experiment: a preset network trained on a dataset, its layers'
MI recorded on a schedule, over one or many seeds, resumable at any point.

This is what ``tfib-infoplane`` runs; the binary only turns flags into an
`ExperimentConfig`.
"""
import dataclasses
import json
import math
import os
import time
from typing import Dict, Optional, Sequence

import keras
import numpy as np

from tfib import callbacks, data, schedules, summaries
from tfib.aggregate import aggregate_runs
from tfib.models import presets
from tfib.resumable import EpochCheckpoint, EpochScalars, completed_epochs, restore


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  model: str = "szt-tanh"
  activation: Optional[str] = None  # None: the preset's own.
  bits: int = 32
  dataset: str = "szt"
  epochs: int = 2000
  batch_size: int = 512
  learning_rate: float = 4e-4
  optimizer: str = "adam"
  train_fraction: float = 0.85
  estimators: Sequence[str] = ("binning", "exact:bits=8")
  schedule: str = "log"
  schedule_points: int = 400
  every: int = 10
  checkpoint_every: int = 50

  def recorded_epochs(self) -> np.ndarray:
    if self.schedule == "log":
      return schedules.log_spaced_epochs(self.epochs, self.schedule_points)
    return schedules.every_k_epochs(self.epochs, self.every)


def load_inputs(config: ExperimentConfig):
  """All inputs (float32, images scaled to [0, 1]) and labels of the dataset, checked to fit
  the preset's input shape."""
  spec = presets.preset(config.model)
  x, y = data.load(config.dataset, "train")
  if config.dataset in data.TFDS:
    x_test, y_test = data.load(config.dataset, "test")
    x, y = np.concatenate([x, x_test]), np.concatenate([y, y_test])
  if tuple(x.shape[1:]) != tuple(spec.input_shape):
    raise ValueError(f"Dataset {config.dataset!r} has inputs of shape {x.shape[1:]}, but model "
                     f"{config.model!r} takes {spec.input_shape}.")
  if y.max() >= spec.num_classes:
    raise ValueError(f"Dataset {config.dataset!r} has {y.max() + 1} classes, model "
                     f"{config.model!r} predicts {spec.num_classes}.")
  x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
  return x, y.astype(np.int32)


def train_one(config: ExperimentConfig, seed: int, run_dir: str, x, y) -> Dict:
  """Trains one seed in ``run_dir`` (resuming a killed run there); returns its summary."""
  summary_path = os.path.join(run_dir, "summary.json")
  if os.path.exists(summary_path):
    with open(summary_path) as stream:
      return json.load(stream)
  os.makedirs(run_dir, exist_ok=True)
  keras.utils.set_random_seed(seed)
  order = np.random.default_rng(seed).permutation(len(x))
  train = np.sort(order[:max(1, int(round(config.train_fraction * len(x))))])
  held_out = np.setdiff1d(np.arange(len(x)), train)
  model = presets.build(config.model, config.bits, config.activation, seed=seed)
  optimizer = (keras.optimizers.Adam(config.learning_rate) if config.optimizer == "adam"
               else keras.optimizers.SGD(config.learning_rate))
  model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
  initial_epoch = restore(model, run_dir)

  writer = summaries.ExactlyOnceWriter(run_dir)  # One event file per (re)start.
  fit_callbacks = [EpochScalars(run_dir, writer)]
  plane = None
  if config.estimators:
    plane = callbacks.InformationPlane(
        presets.information_plane_layers(model), x, y, list(config.estimators),
        config.recorded_epochs(), logdir=run_dir, writer=writer)
    fit_callbacks.append(plane)
  fit_callbacks.append(EpochCheckpoint(run_dir, config.checkpoint_every))
  start = time.perf_counter()
  history = model.fit(x[train], y[train], batch_size=config.batch_size, epochs=config.epochs,
                      initial_epoch=initial_epoch, shuffle=True, verbose=0,
                      callbacks=fit_callbacks)
  seconds = time.perf_counter() - start
  accuracy = history.history["accuracy"][-1] if history.history.get("accuracy") else math.nan
  held_out_accuracy = (model.evaluate(x[held_out], y[held_out], verbose=0)[1]
                       if len(held_out) else math.nan)
  information_seconds = plane.seconds if plane else 0.0
  summary = {
      "seed": seed, "resumed_at_epoch": initial_epoch,
      "train_accuracy": float(accuracy), "test_accuracy": float(held_out_accuracy),
      "seconds_training": seconds - information_seconds,
      "seconds_information_plane": information_seconds,
  }
  with open(summary_path + ".tmp", "w") as stream:
    json.dump(summary, stream, indent=2)
  os.replace(summary_path + ".tmp", summary_path)
  return summary


def run(config: ExperimentConfig, logdir: str, seed: int = 0, repeats: int = 1,
        min_accuracy: float = 0.0, max_restarts: int = 10, log=print, inputs=None) -> Dict:
  """Runs ``repeats`` seeds (``seed``, ``seed`` + 1, ...); one run directory per seed.

  A seed whose final training accuracy stays below ``min_accuracy`` did not learn; as
  Lorenzen et al. do, it is discarded and a fresh seed is run instead (at most
  ``max_restarts`` times). The manifest ``<logdir>/repeats.json`` lists kept and discarded
  seeds. Killed at any point, the same call continues at the seed and epoch it reached.
  With several seeds, ``<logdir>/aggregate`` gets the mean and spread per layer and epoch.
  ``inputs``: (x, y) from `load_inputs`, if already loaded.
  """
  x, y = inputs if inputs is not None else load_inputs(config)
  manifest_path = os.path.join(logdir, "repeats.json")
  manifest = {"kept": [], "discarded": []}
  if os.path.exists(manifest_path):
    with open(manifest_path) as stream:
      manifest = json.load(stream)
  next_seed = seed + len(manifest["kept"]) + len(manifest["discarded"])
  while len(manifest["kept"]) < repeats:
    if len(manifest["discarded"]) > max_restarts:
      raise RuntimeError(f"{len(manifest['discarded'])} seeds did not reach training accuracy "
                         f"{min_accuracy}; giving up (raise --max_restarts or lower "
                         "--min_accuracy).")
    run_dir = logdir if repeats == 1 and min_accuracy <= 0 else os.path.join(
        logdir, f"seed_{next_seed}")
    resumed = completed_epochs(run_dir)
    log(f"seed {next_seed}: training {config.model} on {config.dataset}"
        + (f" (resuming after epoch {resumed})" if resumed else ""))
    summary = train_one(config, next_seed, run_dir, x, y)
    entry = {"seed": next_seed, "run_dir": run_dir, **summary}
    if summary["train_accuracy"] < min_accuracy:
      manifest["discarded"].append(entry)
      log(f"seed {next_seed}: training accuracy {summary['train_accuracy']:.3f} < "
          f"{min_accuracy}: discarded, restarting with a new seed")
    else:
      manifest["kept"].append(entry)
    os.makedirs(logdir, exist_ok=True)
    with open(manifest_path + ".tmp", "w") as stream:
      json.dump(manifest, stream, indent=2)
    os.replace(manifest_path + ".tmp", manifest_path)
    next_seed += 1
  if repeats > 1:
    manifest["aggregate"] = aggregate_runs([e["run_dir"] for e in manifest["kept"]],
                                           os.path.join(logdir, "aggregate"),
                                           title=f"{config.model}, {repeats} seeds")
  return manifest
