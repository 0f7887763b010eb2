"""tfib-train: a ResNet classifier or autoencoder, saved at scheduled epochs, resumable.

Trains the pre-activation ResNet of `tfib.models` (Capture points h1..h4) on an image dataset
and keeps the network at the epochs of --save_epochs in --logdir, which later programs read
through `tfib.training.load_checkpoint(run_dir, epoch)`. Killed at any point, the same
command continues after the last completed epoch.

    tfib-train                                                  # quick: mnist5k, a CPU
    tfib-train --flagfile=configs/train_autoencoder_quick.cfg
    tfib-train --flagfile=configs/train_classifier_cifar10.cfg --strategy=mirrored
    tensorboard --logdir runs/classifier_mnist5k
"""
import sys

from absl import app
from absl import flags
from absl import logging

from tfib.bin import shared_flags

FLAGS = flags.FLAGS
flags.DEFINE_enum("mode", "classifier", ["classifier", "autoencoder"],
                  "Train a classifier (cross-entropy) or an autoencoder (pixel MSE).")
shared_flags.define_training_flags(
    dataset="mnist5k", datasets=["mnist5k", "mnist", "fashion_mnist", "cifar10", "cinic10"],
    epochs=2, batch_size=128, learning_rate=0.1, optimizer="sgd")
flags.DEFINE_integer("width", 8, "Channels of the first stage (stages: w, 2w, 4w, 8w).",
                     lower_bound=1)
flags.DEFINE_integer("depth", 10, "ResNet depth: 10, 18 or 34.")
flags.DEFINE_bool("sync_batch_norm", True,
                  "Batch statistics over all replicas, so the maths does not depend on the "
                  "number of devices.")
flags.DEFINE_float("momentum", 0.9, "SGD momentum.")
flags.DEFINE_float("weight_decay", 5e-4, "Decoupled weight decay (0: none).")
flags.DEFINE_enum("lr_schedule", "cosine", ["constant", "cosine", "step"],
                  "Learning-rate schedule over the epochs.")
flags.DEFINE_float("warmup_epochs", 0.0, "Linear warm-up of the learning rate, in epochs.")
flags.DEFINE_list("lr_decay_epochs", [], "For --lr_schedule=step: epochs of each decay.")
flags.DEFINE_float("lr_decay", 0.1, "For --lr_schedule=step: factor of each decay.")
flags.DEFINE_bool("augment", True, "Random crops (and mirroring for natural images).")
flags.DEFINE_string("save_epochs", "0,1,2,5,10,20,50,100,200",
                    "Epochs to keep the network at: '0,1,2,5', 'log:N' or 'every:K'; epochs "
                    "past --epochs are dropped and the last epoch is always kept.")
flags.DEFINE_integer("max_train_examples", 0, "Train on a fixed random subset (0: all).",
                     lower_bound=0)
flags.DEFINE_integer("max_eval_examples", 0, "Evaluate on a fixed random subset (0: all).",
                     lower_bound=0)
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory.")
shared_flags.define_run_flags(default_logdir=None)
shared_flags.define_device_flags(jit_compile=False)


def _config():
  from tfib.training.train_config import TrainConfig  # pylint: disable=g-import-not-at-top  (no TF)

  try:
    decay_epochs = tuple(float(e) for e in FLAGS.lr_decay_epochs)
  except ValueError:
    raise app.UsageError(f"--lr_decay_epochs takes numbers, got {FLAGS.lr_decay_epochs}."
                         ) from None
  config = TrainConfig(
      mode=FLAGS.mode, dataset=FLAGS.dataset, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
      width=FLAGS.width, depth=FLAGS.depth, sync_batch_norm=FLAGS.sync_batch_norm,
      optimizer=FLAGS.optimizer, learning_rate=FLAGS.learning_rate, momentum=FLAGS.momentum,
      weight_decay=FLAGS.weight_decay, lr_schedule=FLAGS.lr_schedule,
      warmup_epochs=FLAGS.warmup_epochs, lr_decay_epochs=decay_epochs,
      lr_decay=FLAGS.lr_decay, augment=FLAGS.augment, seed=FLAGS.seed,
      save_epochs=FLAGS.save_epochs, max_train_examples=FLAGS.max_train_examples,
      max_eval_examples=FLAGS.max_eval_examples)
  try:
    config.validate()
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  return config


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  config = _config()
  logdir = FLAGS.logdir or f"runs/{FLAGS.mode}_{FLAGS.dataset}"
  from tfib import runs  # pylint: disable=g-import-not-at-top  (no TF)
  from tfib.training.train_config import PROGRAM  # pylint: disable=g-import-not-at-top
  check = runs.Run(logdir, PROGRAM, **shared_flags.run_options())
  check.declare("train", config.as_dict())
  try:
    check.check()  # Another run's directory is refused before TensorFlow loads.
  except runs.RunError as error:
    raise app.UsageError(str(error)) from None

  # Imported here so that bad flags are reported without loading TensorFlow.
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  from tfib import data
  from tfib.training import strategies
  from tfib.training.resnet_training import train_resnet
  # pylint: enable=g-import-not-at-top
  tf.get_logger().setLevel("WARNING")  # TensorFlow's own INFO lines drown the progress.
  shared_flags.quiet_tensorflow()

  try:
    strategy = shared_flags.make_strategy()
  except RuntimeError as error:
    sys.exit(f"tfib-train: error: {error}")
  logging.info("Training a ResNet %s on %s into %s (strategy %s, %d replica(s)).", FLAGS.mode,
               FLAGS.dataset, logdir, FLAGS.strategy, strategy.num_replicas_in_sync)
  options = shared_flags.run_options()
  try:
    result = train_resnet(config, logdir, strategy=strategy, jit_compile=FLAGS.jit_compile,
                          data_dir=FLAGS.data_dir, overwrite=options["overwrite"],
                          force_resume=options["force_resume"],
                          fall_back_on_corrupt=options["fall_back"])
  except (data.DatasetUnavailableError, runs.CorruptStateError) as error:
    sys.exit(f"tfib-train: error: {error}")
  except (ValueError, runs.RunError) as error:
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
  print(f"saved epochs:     {', '.join(map(str, result.saved_epochs))}")
  print(f"TensorBoard:      tensorboard --logdir {result.run_dir}")
  print(f"load a network:   tfib.training.load_checkpoint({result.run_dir!r}, "
        f"{result.saved_epochs[-1]})")


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
