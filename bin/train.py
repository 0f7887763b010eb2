"""tfib-train: a ResNet classifier or autoencoder, saved at scheduled epochs, resumable.

Trains the pre-activation ResNet of `tfib.models` (Capture points h1..h4) on an image dataset
and keeps the network at the epochs of --save_epochs in --run_dir, with a manifest that later
programs read through `tfib.training.load_checkpoint(run_dir, epoch)`. Killed at any point,
the same command continues after the last completed epoch.

    tfib-train                                                  # quick: mnist5k, a CPU
    tfib-train --flagfile=configs/train_autoencoder_quick.cfg
    tfib-train --flagfile=configs/train_classifier_cifar10.cfg --strategy=mirrored
    tensorboard --logdir runs/classifier_mnist5k/tensorboard
"""
import sys

from absl import app
from absl import flags
from absl import logging

FLAGS = flags.FLAGS
flags.DEFINE_enum("mode", "classifier", ["classifier", "autoencoder"],
                  "Train a classifier (cross-entropy) or an autoencoder (pixel MSE).")
flags.DEFINE_string("dataset", "mnist5k",
                    "mnist5k (built in, offline), or mnist, fashion_mnist, cifar10, cinic10 "
                    "(tensorflow-datasets; downloaded into --data_dir on first use).")
flags.DEFINE_integer("epochs", 2, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Global batch size (split over the replicas).")
flags.DEFINE_integer("width", 8, "Channels of the first stage (stages: w, 2w, 4w, 8w).")
flags.DEFINE_integer("depth", 10, "ResNet depth: 10, 18 or 34.")
flags.DEFINE_bool("sync_batch_norm", True,
                  "Batch statistics over all replicas, so the maths does not depend on the "
                  "number of devices.")
flags.DEFINE_enum("optimizer", "sgd", ["sgd", "adam"], "Optimizer.")
flags.DEFINE_float("learning_rate", 0.1, "Base learning rate.")
flags.DEFINE_float("momentum", 0.9, "SGD momentum.")
flags.DEFINE_float("weight_decay", 5e-4, "Decoupled weight decay (0: none).")
flags.DEFINE_enum("lr_schedule", "cosine", ["constant", "cosine", "step"],
                  "Learning-rate schedule over the epochs.")
flags.DEFINE_float("warmup_epochs", 0.0, "Linear warm-up of the learning rate, in epochs.")
flags.DEFINE_list("lr_decay_epochs", [], "For --lr_schedule=step: epochs of each decay.")
flags.DEFINE_float("lr_decay", 0.1, "For --lr_schedule=step: factor of each decay.")
flags.DEFINE_bool("augment", True, "Random crops (and mirroring for natural images).")
flags.DEFINE_integer("seed", 0, "Seed of the initialisation, data order and augmentation.")
flags.DEFINE_string("save_epochs", "0,1,2,5,10,20,50,100,200",
                    "Epochs to keep the network at: '0,1,2,5', 'log:N' or 'every:K'; epochs "
                    "past --epochs are dropped and the last epoch is always kept.")
flags.DEFINE_integer("max_train_examples", 0, "Train on a fixed random subset (0: all).")
flags.DEFINE_integer("max_eval_examples", 0, "Evaluate on a fixed random subset (0: all).")
flags.DEFINE_string("run_dir", None, "Run directory (default runs/<mode>_<dataset>).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy (see tfib.training.strategies).")
flags.DEFINE_string("tpu", "", "For --strategy=tpu: TPU name or address (empty: local).")
flags.DEFINE_integer("num_cpu_devices", 0,
                     "Split the CPU into this many logical devices (for --strategy=mirrored "
                     "on a machine without GPUs; 0: leave as is).")
flags.DEFINE_bool("jit_compile", False, "Compile the forward and backward pass with XLA.")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory.")
flags.DEFINE_bool("overwrite", False, "Delete the run in --run_dir and start again.")
flags.DEFINE_bool("force_resume", False,
                  "Continue the run in --run_dir even though its configuration differs.")
flags.DEFINE_enum("on_corrupt_checkpoint", "fail", ["fail", "fall_back"],
                  "If the latest resume state is unreadable: stop with an error, or continue "
                  "from the newest readable one.")


def _config():
  from tfib.training.train_config import TrainConfig  # pylint: disable=g-import-not-at-top  (no TF)

  try:
    decay_epochs = tuple(float(e) for e in FLAGS.lr_decay_epochs)
  except ValueError:
    raise app.UsageError(f"--lr_decay_epochs takes numbers, got {FLAGS.lr_decay_epochs}."
                         ) from None
  return TrainConfig(
      mode=FLAGS.mode, dataset=FLAGS.dataset, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
      width=FLAGS.width, depth=FLAGS.depth, sync_batch_norm=FLAGS.sync_batch_norm,
      optimizer=FLAGS.optimizer, learning_rate=FLAGS.learning_rate, momentum=FLAGS.momentum,
      weight_decay=FLAGS.weight_decay, lr_schedule=FLAGS.lr_schedule,
      warmup_epochs=FLAGS.warmup_epochs, lr_decay_epochs=decay_epochs,
      lr_decay=FLAGS.lr_decay, augment=FLAGS.augment, seed=FLAGS.seed,
      save_epochs=FLAGS.save_epochs, max_train_examples=FLAGS.max_train_examples,
      max_eval_examples=FLAGS.max_eval_examples)


def _quiet_checkpoint_saver(record):
  """Drops the INFO line TensorFlow's checkpoint saver logs at every save."""
  return not (record.levelno <= logging.converter.STANDARD_INFO
              and record.pathname.endswith("functional_saver.py"))


def _check_run_directory(run_dir, config):
  """Refuses a run directory of another configuration before TensorFlow loads."""
  from tfib.training import run_directory  # pylint: disable=g-import-not-at-top  (no TF)

  run = run_directory.RunDirectory(run_dir)
  try:
    if run.has_manifest():
      manifest = run.read_manifest()
      if not FLAGS.overwrite:
        run.check_config(manifest, config.as_dict(), force=FLAGS.force_resume)
    elif not run.is_empty_or_own():
      raise run_directory.RunDirectoryError(
          f"{run.path} exists, holds other files and has no manifest: it is not a tfib-train "
          "run directory. Choose another --run_dir.")
  except run_directory.RunDirectoryError as error:
    raise app.UsageError(str(error)) from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  config = _config()
  try:
    config.validate()
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  if FLAGS.num_cpu_devices < 0:
    raise app.UsageError(f"--num_cpu_devices cannot be negative, got {FLAGS.num_cpu_devices}.")
  if FLAGS.overwrite and FLAGS.force_resume:
    raise app.UsageError("--overwrite and --force_resume contradict each other.")

  run_dir = FLAGS.run_dir or f"runs/{FLAGS.mode}_{FLAGS.dataset}"
  _check_run_directory(run_dir, config)

  # Imported here so that bad flags are reported without loading TensorFlow.
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  from tfib import data
  from tfib.training import run_directory, strategies
  from tfib.training.resnet_training import train_resnet
  # pylint: enable=g-import-not-at-top
  tf.get_logger().setLevel("WARNING")  # TensorFlow's own INFO lines drown the progress.
  logging.get_absl_logger().addFilter(_quiet_checkpoint_saver)

  if FLAGS.num_cpu_devices:
    try:
      strategies.split_cpu(FLAGS.num_cpu_devices)
    except RuntimeError as error:
      raise app.UsageError(f"--num_cpu_devices: {error}") from None
  try:
    strategy = strategies.make_strategy(FLAGS.strategy, FLAGS.tpu)
  except RuntimeError as error:
    sys.exit(f"tfib-train: error: {error}")
  logging.info("Training a ResNet %s on %s into %s (strategy %s, %d replica(s)).", FLAGS.mode,
               FLAGS.dataset, run_dir, FLAGS.strategy, strategy.num_replicas_in_sync)
  try:
    result = train_resnet(config, run_dir, strategy=strategy, jit_compile=FLAGS.jit_compile,
                          data_dir=FLAGS.data_dir, overwrite=FLAGS.overwrite,
                          force_resume=FLAGS.force_resume,
                          fall_back_on_corrupt=FLAGS.on_corrupt_checkpoint == "fall_back")
  except (data.DatasetUnavailableError, run_directory.CorruptCheckpointError) as error:
    sys.exit(f"tfib-train: error: {error}")
  except (ValueError, run_directory.RunDirectoryError) as error:
    raise app.UsageError(str(error)) from None

  if not strategies.is_chief(strategy):
    print(f"worker {strategies.worker_id()} done; the chief wrote {result.run_dir}")
    return
  if result.resumed_from == config.epochs:
    print(f"the run had finished all {config.epochs} epochs: nothing trained")
  elif result.resumed_from is not None:
    print(f"resumed after epoch {result.resumed_from}")
  print("final metrics: " + "  ".join(f"{k} {v:.4g}" for k, v in result.metrics.items()))
  print(f"run directory:    {result.run_dir}")
  print(f"manifest:         {result.manifest_path}")
  print(f"saved epochs:     {', '.join(map(str, result.saved_epochs))}")
  print(f"TensorBoard logs: {result.logdir}  (tensorboard --logdir {result.logdir})")
  print(f"load a network:   tfib.training.load_checkpoint({result.run_dir!r}, "
        f"{result.saved_epochs[-1]})")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
