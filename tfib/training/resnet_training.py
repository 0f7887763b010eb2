"""Training a ResNet classifier or autoencoder into a run directory, resumably.

`train_resnet(config, run_dir)` is what `tfib-train` runs, through the one run mechanism
(`tfib.runs.Run`). Epoch k (epoch 0 being the initialisation) ends in this order:

  1. TensorBoard summaries of step k (``train/``, ``eval/``);
  2. if k is a save epoch, the network, to ``checkpoints/epoch_k.keras`` (``networks.jsonl``);
  3. epoch k's metrics, to the journal ``history.jsonl``;
  4. the commit of step k: the resume state (network, optimizer, epoch counter = k).

A run killed anywhere restarts from the last resume state, say after epoch j, and the run
rolls everything else back to j: summaries of steps > j, history records and saved networks
of epochs > j. Epochs j+1.. then run again on exactly the same batches (see
`tfib.training.input_pipeline`), so no network, TensorBoard step or history record is lost or
written twice, and the finished run equals an uninterrupted one.
"""
import dataclasses
import time
from typing import Dict, List, Optional

from absl import logging
import numpy as np
import tensorflow as tf

from tfib import models, runs
from tfib.models import resnet as resnet_module
from tfib.layers import captured_layer_names
from tfib.runs import tensorboard
from tfib.runs.progress import Progress
from tfib.training import input_pipeline, optimization, strategies
from tfib.training.checkpoint_schedule import parse_save_epochs
from tfib.training.train_config import HISTORY, PROGRAM, TrainConfig
from tfib.training.train_loop import TrainLoop

__all__ = ["TrainConfig", "TrainResult", "train_resnet"]

NUM_RECONSTRUCTIONS = 8


@dataclasses.dataclass
class TrainResult:
  run_dir: str
  last_epoch: int
  saved_epochs: List[int]
  resumed_from: Optional[int]  # The epoch the run continued after, None for a new run.
  metrics: Dict[str, float]  # Of the last epoch.


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
  `tfib.data.DatasetUnavailableError` for data that cannot be loaded,
  `tfib.runs.ConfigMismatchError` for a run directory made by another configuration
  (unless ``force_resume``; ``overwrite`` deletes the old run first), `tfib.runs.RunError`
  for a directory that is not a tfib-train run, `tfib.runs.CorruptStateError` for an
  unreadable resume state (unless ``fall_back_on_corrupt``, which continues from the newest
  readable one).
  """
  config.validate()
  resnet_module.stage_blocks(config.depth)  # Raises ValueError for an unknown depth.
  save_epochs = parse_save_epochs(config.save_epochs, config.epochs)
  strategy = strategy or tf.distribute.get_strategy()
  run = runs.Run(run_dir, PROGRAM, overwrite=overwrite, force_resume=force_resume,
                 fall_back=fall_back_on_corrupt, chief=strategies.is_chief(strategy))
  run.declare("train", config.as_dict())

  data = input_pipeline.load_image_data(config.dataset, data_dir, config.max_train_examples,
                                        config.max_eval_examples)
  try:
    resnet_module.check_input_shape(data.image_shape)
  except ValueError as error:
    raise input_pipeline.IncompatibleDatasetError(
        f"Dataset {config.dataset!r} does not fit the ResNet: {error}") from None
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
  held = run.open()["config"].get("dataset")
  if held and list(held["image_shape"]) != list(data.image_shape):
    raise input_pipeline.IncompatibleDatasetError(
        f"Dataset {config.dataset!r} has images of shape {data.image_shape}, but the network "
        f"in {run.path} takes {tuple(held['image_shape'])}: it cannot be resumed on them.")
  run.declare("dataset", data.facts())

  if config.mode == "classifier":
    build_model = lambda: models.resnet_classifier(  # pylint: disable=g-long-lambda
        data.image_shape, data.num_classes, width=config.width, depth=config.depth,
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
  run.declare("model", {"name": loop.model.name, "parameters": int(loop.model.count_params()),
                        "capture_layers": captured_layer_names(loop.model)})
  run.track(**loop.trackables())
  last = run.start()
  history = run.journal(HISTORY, step_key="epoch")
  writers = (run.writer("train"), run.writer("eval"))

  train_images = tf.constant(data.train_images)
  train_labels = tf.constant(data.train_labels)
  evaluation = input_pipeline.eval_dataset(data.eval_images, data.eval_labels,
                                           config.batch_size)
  shown = data.eval_images[:NUM_RECONSTRUCTIONS]
  mirror = config.dataset in input_pipeline.MIRRORED_DATASETS

  def finish_epoch(epoch: int, metrics: Dict[str, float]):
    metrics["learning_rate"] = loop.learning_rate
    _write_summaries(writers, epoch, metrics, loop.reconstruction_grid(shown))
    if epoch in save_epochs:
      run.save_network(loop.model, epoch, f"checkpoints/epoch_{epoch:04d}.keras",
                       metrics=metrics)
    history.append([{"epoch": epoch, "metrics": metrics}])
    loop.epoch.assign(epoch)
    run.commit(epoch)

  if last is None:
    tensorboard.write_hparams(writers[0], config.as_dict())  # Step 0, rolled back with it.
    metrics = loop.evaluate(evaluation)
    finish_epoch(0, metrics)
    logging.info("epoch 0 (initialisation)  %s", _format(metrics))
    last = 0
  elif last >= config.epochs:
    logging.info("%s has finished all %d epochs; nothing to do.", run.path, config.epochs)
  else:
    logging.info("Resuming %s after epoch %d.", run.path, last)

  records = history.records()
  metrics = dict(records[-1]["metrics"]) if records else {}
  progress = (Progress(config.epochs, "epoch", start=last, every_seconds=0.0) if run.chief
              else None)
  for epoch in range(last + 1, config.epochs + 1):
    start = time.perf_counter()
    metrics = loop.train_epoch(train_images, train_labels, epoch, config.seed, config.augment,
                               mirror)
    seconds = time.perf_counter() - start
    metrics.update(loop.evaluate(evaluation))
    finish_epoch(epoch, metrics)
    if progress:
      progress.update(epoch, f"{_format(metrics)}  "
                             f"{steps * config.batch_size / max(seconds, 1e-9):.0f} images/s")
  run.close()
  return TrainResult(
      run_dir=run.path, last_epoch=int(loop.epoch.numpy()),
      saved_epochs=sorted(runs.saved_networks(run.path)) if run.chief else [],
      resumed_from=run.resumed_step, metrics=metrics)
