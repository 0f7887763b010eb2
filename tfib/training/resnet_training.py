"""Training a ResNet classifier or autoencoder into a run directory, resumably.

`train_resnet(config, run_dir)` is what `tfib-train` runs. Each epoch k (epoch 0 being the
initialisation) ends in this order:

  1. TensorBoard summaries of step k are written and flushed;
  2. if k is a save epoch, the network is saved to ``checkpoints/epoch_k.keras``;
  3. the manifest gets epoch k's metrics (and checkpoint entry) and is replaced atomically;
  4. the resume state (network, optimizer, epoch counter = k) is saved.

A run killed anywhere restarts from the last resume state, say after epoch j, and first
rolls everything else back to j: summaries of steps > j are cut from the event files, and
manifest entries and saved networks of epochs > j are removed. Epochs j+1.. then run again
on exactly the same batches (see `tfib.training.input_pipeline`), so no checkpoint,
TensorBoard step or manifest entry is lost or written twice.
"""
import dataclasses
import os
import time
from typing import Dict, List, Optional

from absl import logging
import numpy as np
import tensorflow as tf

from tfib import models, summaries
from tfib.models import resnet as resnet_module
from tfib.layers import captured_layer_names
from tfib.training import input_pipeline, optimization, strategies
from tfib.training.checkpoint_schedule import parse_save_epochs
from tfib.training.run_directory import (CorruptCheckpointError, RunDirectory,
                                         RunDirectoryError)
from tfib.training.train_config import TrainConfig
from tfib.training.train_loop import TrainLoop

__all__ = ["TrainConfig", "TrainResult", "train_resnet"]

RESUME_STATES_KEPT = 2
NUM_RECONSTRUCTIONS = 8


@dataclasses.dataclass
class TrainResult:
  run_dir: str
  manifest_path: str
  logdir: str
  last_epoch: int
  saved_epochs: List[int]
  resumed_from: Optional[int]  # The epoch the run continued after, None for a new run.
  metrics: Dict[str, float]  # Of the last epoch.


def _restore(loop: TrainLoop, manager: tf.train.CheckpointManager, fall_back: bool):
  """Restores the newest readable resume state.

  Returns its epoch (None if there is no state) and the paths of the newer, corrupt states
  skipped to reach it (only with ``fall_back``).
  """
  latest = manager.latest_checkpoint
  candidates = ([latest] if latest else []) + [
      path for path in reversed(manager.checkpoints) if path != latest]
  for index, path in enumerate(candidates):
    try:
      loop.checkpoint.restore(path).assert_existing_objects_matched()
    except Exception as error:  # pylint: disable=broad-except  (DataLoss, IndexError, ...)
      reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
      earlier = candidates[index + 1:]
      if not fall_back:
        hint = (f"the previous resume state {os.path.basename(earlier[0])} is still there: "
                "rerun with --on_corrupt_checkpoint=fall_back to continue from it, or"
                if earlier else "there is no earlier resume state:")
        raise CorruptCheckpointError(
            f"The resume state {path} is corrupt ({reason}); {hint} --overwrite to start "
            "the run again.") from error
      logging.warning("Resume state %s is corrupt (%s); trying the previous one.", path,
                      reason)
      continue
    return int(loop.epoch.numpy()), candidates[:index]
  if candidates:
    raise CorruptCheckpointError(f"No resume state in {manager.directory} can be read; "
                                 "--overwrite to start the run again.")
  return None, []


def _write_summaries(writers, epoch: int, metrics: Dict[str, float],
                     grid: Optional[np.ndarray]):
  train_writer, eval_writer = writers
  with train_writer.as_default(step=epoch):
    tf.summary.scalar("learning_rate", metrics["learning_rate"])
    for name, value in metrics.items():
      if name.startswith("train_"):
        tf.summary.scalar(name[len("train_"):], value)
  with eval_writer.as_default(step=epoch):
    for name, value in metrics.items():
      if name.startswith("eval_"):
        tf.summary.scalar(name[len("eval_"):], value)
    if grid is not None:
      tf.summary.image("reconstructions", grid, max_outputs=1,
                       description="top: inputs; bottom: reconstructions")
  for writer in writers:
    writer.flush()


def _format(metrics: Dict[str, float]) -> str:
  return "  ".join(f"{name} {value:.4g}" for name, value in metrics.items())


def train_resnet(config: TrainConfig, run_dir: str,
                 strategy: Optional[tf.distribute.Strategy] = None, jit_compile: bool = False,
                 data_dir: Optional[str] = None, overwrite: bool = False,
                 force_resume: bool = False, fall_back_on_corrupt: bool = False
                 ) -> TrainResult:
  """Trains (or continues) the run of ``config`` in ``run_dir``; see the module docstring.

  Raises ValueError for bad settings or data that do not fit (IncompatibleDatasetError),
  `tfib.data.DatasetUnavailableError` for data that cannot be loaded, ConfigMismatchError
  for a run directory made by another configuration (unless ``force_resume``; ``overwrite``
  deletes the old run first), CorruptCheckpointError for an unreadable resume state (unless
  ``fall_back_on_corrupt``, which continues from the newest readable one).
  """
  config.validate()
  resnet_module.stage_blocks(config.depth)  # Raises ValueError for an unknown depth.
  save_epochs = parse_save_epochs(config.save_epochs, config.epochs)
  strategy = strategy or tf.distribute.get_strategy()
  chief = strategies.is_chief(strategy)
  run = RunDirectory(run_dir)
  manifest = None
  if run.has_manifest():
    manifest = run.read_manifest()  # Raises unless it is a tfib-train run directory.
    if overwrite:
      manifest = None
    else:
      manifest = run.check_config(manifest, config.as_dict(), force=force_resume)
  elif not run.is_empty_or_own():
    raise RunDirectoryError(f"{run.path} exists, holds other files and has no manifest: it "
                            "is not a tfib-train run directory. Choose another --run_dir.")

  data = input_pipeline.load_image_data(config.dataset, data_dir, config.max_train_examples,
                                        config.max_eval_examples)
  try:
    resnet_module.check_input_shape(data.image_shape)
  except ValueError as error:
    raise input_pipeline.IncompatibleDatasetError(
        f"Dataset {config.dataset!r} does not fit the ResNet: {error}") from None
  if manifest is not None and list(manifest["dataset"]["image_shape"]) != list(
      data.image_shape):
    raise input_pipeline.IncompatibleDatasetError(
        f"Dataset {config.dataset!r} has images of shape {data.image_shape}, but the network "
        f"in {run.path} takes {tuple(manifest['dataset']['image_shape'])}: it cannot be "
        "resumed on them.")
  replicas = strategy.num_replicas_in_sync
  if config.batch_size % replicas:
    raise ValueError(f"batch_size {config.batch_size} does not split over {replicas} "
                     "replicas.")
  steps = input_pipeline.steps_per_epoch(len(data.train_images), config.batch_size)
  if steps < 1:
    raise ValueError(f"batch_size {config.batch_size} exceeds the {len(data.train_images)} "
                     "training images.")
  if (jit_compile and config.sync_batch_norm and replicas > 1
      and not isinstance(strategy, tf.distribute.TPUStrategy)):
    raise ValueError("jit_compile with sync_batch_norm needs a single replica (XLA cannot "
                     "compile the cross-replica batch statistics): turn one of them off.")

  num_classes = manifest["dataset"]["num_classes"] if manifest else data.num_classes
  if config.mode == "classifier":
    build_model = lambda: models.resnet_classifier(  # pylint: disable=g-long-lambda
        data.image_shape, num_classes, width=config.width, depth=config.depth,
        sync_batch_norm=config.sync_batch_norm, seed=config.seed)
  else:
    build_model = lambda: models.resnet_autoencoder(  # pylint: disable=g-long-lambda
        data.image_shape, width=config.width, depth=config.depth,
        sync_batch_norm=config.sync_batch_norm, seed=config.seed)
  schedule = optimization.EpochLearningRate(
      config.learning_rate, config.lr_schedule, steps, config.epochs, config.warmup_epochs,
      config.lr_decay_epochs, config.lr_decay)
  loop = TrainLoop(
      strategy, config.mode, build_model,
      lambda: optimization.build_optimizer(config.optimizer, schedule, config.momentum,
                                           config.weight_decay),
      config.batch_size, jit_compile=jit_compile)

  facts = dict(
      dataset=data.facts(), epochs=config.epochs, save_epochs=save_epochs,
      steps_per_epoch=steps,
      model={"name": loop.model.name, "parameters": int(loop.model.count_params()),
             "capture_layers": captured_layer_names(loop.model)})
  if manifest is None:
    if chief:  # --overwrite, or leftovers of a run killed before its first manifest.
      run.clear()
    manifest = run.new_manifest(config.as_dict(), **facts)
  else:
    manifest.update(facts)  # A forced resume may change epochs and schedule.

  if chief:
    os.makedirs(run.resume_dir, exist_ok=True)
    resume_dir = run.resume_dir
  else:  # Other workers save too (the save is collective) but into a scratch directory.
    resume_dir = os.path.join(run.resume_dir, f".{strategies.worker_id()}")
  manager = tf.train.CheckpointManager(loop.checkpoint, run.resume_dir, RESUME_STATES_KEPT)
  last, corrupt = _restore(loop, manager, fall_back_on_corrupt)
  if not chief:
    manager = tf.train.CheckpointManager(loop.checkpoint, resume_dir, 1)
  resumed_from = last
  if chief:
    manifest = run.rollback(manifest, last)
    manifest["finished"] = last is not None and last >= config.epochs
    run.write_manifest(manifest)
    if corrupt:  # Fell back: drop the corrupt states and make the good one the latest.
      for path in corrupt:
        for name in tf.io.gfile.glob(path + ".*"):
          tf.io.gfile.remove(name)
      manager.save(checkpoint_number=last)
    writers = tuple(tf.summary.create_file_writer(os.path.join(run.logdir, name))
                    for name in ("train", "eval"))
  else:
    writers = (tf.summary.create_noop_writer(), tf.summary.create_noop_writer())

  train_images = tf.constant(data.train_images)
  train_labels = tf.constant(data.train_labels)
  evaluation = input_pipeline.eval_dataset(data.eval_images, data.eval_labels,
                                           config.batch_size)
  shown = data.eval_images[:NUM_RECONSTRUCTIONS]
  mirror = config.dataset in input_pipeline.MIRRORED_DATASETS

  def finish_epoch(epoch: int, metrics: Dict[str, float]):
    metrics["learning_rate"] = loop.learning_rate
    _write_summaries(writers, epoch, metrics, loop.reconstruction_grid(shown))
    loop.epoch.assign(epoch)
    if chief:
      entry = run.save_network(loop.model, epoch) if epoch in save_epochs else None
      run.record_epoch(manifest, epoch, metrics, entry)
      manifest["finished"] = epoch == config.epochs
      run.write_manifest(manifest)
    manager.save(checkpoint_number=epoch)

  if last is None:
    if chief:
      with writers[0].as_default():  # Once, at the run's epoch 0 (rolled back on resume).
        summaries.record_hparams(config.as_dict())
    metrics = loop.evaluate(evaluation)
    finish_epoch(0, metrics)
    logging.info("epoch 0 (initialisation)  %s", _format(metrics))
    last = 0
  elif last >= config.epochs:
    logging.info("%s has finished all %d epochs; nothing to do.", run.path, config.epochs)
  else:
    logging.info("Resuming %s after epoch %d.", run.path, last)

  metrics = dict((manifest["history"][-1]["metrics"]) if manifest["history"] else {})
  for epoch in range(last + 1, config.epochs + 1):
    start = time.perf_counter()
    metrics = loop.train_epoch(train_images, train_labels, epoch, config.seed, config.augment,
                               mirror)
    seconds = time.perf_counter() - start
    metrics.update(loop.evaluate(evaluation))
    finish_epoch(epoch, metrics)
    logging.info("epoch %d/%d  %s  (%.1f s, %.0f images/s)", epoch, config.epochs,
                 _format(metrics), seconds, steps * config.batch_size / max(seconds, 1e-9))
  for writer in writers:
    writer.close()
  if not chief and tf.io.gfile.exists(resume_dir):
    tf.io.gfile.rmtree(resume_dir)
  return TrainResult(
      run_dir=run.path, manifest_path=run.manifest_path, logdir=run.logdir,
      last_epoch=int(loop.epoch.numpy()),
      saved_epochs=sorted(e["epoch"] for e in manifest["checkpoints"]),
      resumed_from=resumed_from, metrics=metrics)
