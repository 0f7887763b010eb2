"""tfib-infoplane: the information plane of the Shwartz-Ziv & Tishby network on the SZT task.

Trains the 12-10-7-5-4-3-2 network on the 12-bit task and records I(X;T) and I(T;Y) of every
layer, on all 4096 inputs, at the scheduled epochs. Writes TensorBoard logs, the results
file and one information-plane PNG per estimator into --logdir.

    tfib-infoplane                                     # quick run, a few minutes on a CPU
    tfib-infoplane --flagfile=configs/idnns_full.cfg   # the paper's 8000 epochs
    tensorboard --logdir runs/infoplane
"""
import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import keras
import numpy as np
import tensorflow as tf

from tfib import callbacks, data, models, schedules, summaries

FLAGS = flags.FLAGS
flags.DEFINE_enum("activation", "tanh", ["tanh", "relu"], "Hidden-layer activation.")
flags.DEFINE_string("dataset", "szt", "Dataset; the SZT network is built for 'szt'.")
flags.DEFINE_integer("epochs", 2000, "Training epochs.")
flags.DEFINE_integer("batch_size", 512, "Minibatch size.")
flags.DEFINE_float("learning_rate", 4e-4, "Learning rate.")
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimizer.")
flags.DEFINE_float("train_fraction", 0.85, "Fraction of the 4096 patterns used for training.")
flags.DEFINE_integer("seed", 0, "Seed of the initialisation, split and shuffling.")
flags.DEFINE_multi_string(
    "estimator", ["binning", "exact:bits=8"],
    "Estimator specs 'name[:key=value,...]', e.g. 'binning:scheme=saxe,bin_size=0.07'. "
    "Repeat the flag for several; pass --estimator= (empty) to train without any.")
flags.DEFINE_enum("schedule", "log", ["log", "every"],
                  "Recording epochs: log-spaced as IDNNs, or every --every epochs.")
flags.DEFINE_integer("schedule_points", 400, "Points of the log-spaced schedule (IDNNs: 400).")
flags.DEFINE_integer("every", 10, "Spacing of the 'every' schedule.")
flags.DEFINE_string("logdir", "runs/infoplane", "Output directory.")

SZT_DATASETS = ("szt",)


def _check_flags():
  if FLAGS.dataset not in data.names():
    raise app.UsageError(f"Unknown dataset {FLAGS.dataset!r}; known: {', '.join(data.names())}.")
  if FLAGS.dataset not in SZT_DATASETS:
    raise app.UsageError(f"tfib-infoplane trains the SZT network, whose input is the 12-bit "
                         f"task: --dataset must be one of {SZT_DATASETS}.")
  for name, value in (("epochs", FLAGS.epochs), ("batch_size", FLAGS.batch_size)):
    if value < 1:
      raise app.UsageError(f"--{name} must be positive, got {value}.")
  if not 0 < FLAGS.train_fraction <= 1:
    raise app.UsageError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
  if not FLAGS.learning_rate > 0:
    raise app.UsageError(f"--learning_rate must be positive, got {FLAGS.learning_rate}.")


def _estimators():
  specs = [spec for spec in FLAGS.estimator if spec.strip()]
  if not specs:
    return {}
  try:
    return callbacks.estimator_labels(specs)
  except ValueError as error:
    raise app.UsageError(str(error)) from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  _check_flags()
  estimators = _estimators()

  keras.utils.set_random_seed(FLAGS.seed)
  x, y = data.load(FLAGS.dataset)
  order = np.random.default_rng(FLAGS.seed).permutation(len(x))
  train = order[:max(1, int(round(FLAGS.train_fraction * len(x))))]
  model = models.szt_network(FLAGS.activation, seed=FLAGS.seed)
  optimizer = (keras.optimizers.Adam(FLAGS.learning_rate) if FLAGS.optimizer == "adam"
               else keras.optimizers.SGD(FLAGS.learning_rate))
  model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])

  os.makedirs(FLAGS.logdir, exist_ok=True)
  with tf.summary.create_file_writer(FLAGS.logdir).as_default():
    summaries.write_hparams({name: FLAGS[name].value for name in (
        "activation", "dataset", "epochs", "batch_size", "learning_rate", "optimizer",
        "train_fraction", "seed", "schedule", "estimator")})
  epochs = (schedules.log_spaced_epochs(FLAGS.epochs, FLAGS.schedule_points)
            if FLAGS.schedule == "log" else schedules.every_k_epochs(FLAGS.epochs, FLAGS.every))
  plane = None
  fit_callbacks = [keras.callbacks.TensorBoard(os.path.join(FLAGS.logdir, "training"),
                                               write_graph=False, profile_batch=0)]
  if estimators:
    plane = callbacks.InformationPlane(
        models.information_plane_layers(model), x, y, estimators, epochs,
        logdir=FLAGS.logdir)
    fit_callbacks.append(plane)
  logging.info("Training the SZT network (%s) for %d epochs; recording %d epochs with %s.",
               FLAGS.activation, FLAGS.epochs, len(epochs) if estimators else 0,
               ", ".join(estimators) or "no estimator")
  start = time.perf_counter()
  history = model.fit(x[train], y[train], batch_size=FLAGS.batch_size, epochs=FLAGS.epochs,
                      shuffle=True, verbose=0 if FLAGS.epochs > 50 else 2,
                      callbacks=fit_callbacks + [_Progress(FLAGS.epochs)])
  total = time.perf_counter() - start
  _, test_accuracy = model.evaluate(np.delete(x, train, axis=0), np.delete(y, train),
                                    verbose=0) if len(train) < len(x) else (None, float("nan"))
  mi_seconds = plane.seconds if plane else 0.0
  summary = {
      "train_accuracy": float(history.history["accuracy"][-1]),
      "test_accuracy": float(test_accuracy),
      "seconds_total": total,
      "seconds_information_plane": mi_seconds,
      "seconds_training": total - mi_seconds,
  }
  with open(os.path.join(FLAGS.logdir, "summary.json"), "w") as stream:
    json.dump(summary, stream, indent=2)
  print(f"train accuracy {summary['train_accuracy']:.3f}, test accuracy "
        f"{summary['test_accuracy']:.3f}")
  print(f"time: training {total - mi_seconds:.1f} s, information plane {mi_seconds:.1f} s "
        f"({100 * mi_seconds / max(total - mi_seconds, 1e-9):.1f}% of training)")
  print(f"TensorBoard logs: {FLAGS.logdir}  (tensorboard --logdir {FLAGS.logdir})")
  if plane:
    print(f"results file:     {plane.results.path}")
    for label in estimators:
      print(f"information plane: {os.path.join(FLAGS.logdir, f'infoplane_{label}.png')}")


class _Progress(keras.callbacks.Callback):
  """Logs one line every tenth of the run."""

  def __init__(self, epochs):
    super().__init__()
    self.total = epochs
    self.every = max(1, epochs // 10)

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self.every == 0 or epoch + 1 == self.total:
      logging.info("epoch %d/%d  loss %.4f  accuracy %.3f", epoch + 1, self.total,
                   logs["loss"], logs["accuracy"])


def run():
  app.run(main)


if __name__ == "__main__":
  run()
