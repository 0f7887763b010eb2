"""tfib-infoplane: information planes of the published networks while they train.

Trains a preset network (default: Shwartz-Ziv & Tishby's 12-10-7-5-4-3-2 on the 12-bit
task) and records I(X;T) and I(T;Y) of every layer, on all inputs, at the scheduled
epochs. Writes TensorBoard logs, the results file and one information-plane PNG per
estimator into --logdir; with --repeats, one run directory per seed and their mean.
Killed at any point, the same command resumes at the seed and epoch it reached.

    tfib-infoplane                                       # quick run, a few minutes on a CPU
    tfib-infoplane --flagfile=configs/idnns_full.cfg     # the paper's 8000 epochs
    tfib-infoplane --flagfile=configs/lorenzen_szt_tanh_quick.cfg --repeats=5
    tensorboard --logdir runs/infoplane
"""
import dataclasses
import glob
import os

from absl import app
from absl import flags
from absl import logging

from tfib import data
from tfib import estimators as estimators_lib
from tfib import summaries
from tfib import infoplane_experiment
from tfib.models import presets

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "szt-tanh", presets.names(), "Network preset.")
flags.DEFINE_string("activation", "", "Hidden activation, tanh or relu; empty: the preset's.")
flags.DEFINE_enum("bits", "32", ["4", "8", "32"],
                  "Quantization of weights and activations (32: float).")
flags.DEFINE_string("dataset", "szt", f"Dataset: {', '.join(data.names())}.")
flags.DEFINE_integer("epochs", 2000, "Training epochs.")
flags.DEFINE_integer("batch_size", 512, "Minibatch size.")
flags.DEFINE_float("learning_rate", 4e-4, "Learning rate.")
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimizer.")
flags.DEFINE_float("train_fraction", 0.85, "Fraction of the inputs used for training.")
flags.DEFINE_integer("seed", 0, "Seed of the first run (initialisation, split, shuffling).")
flags.DEFINE_multi_string(
    "estimator", ["binning", "exact:bits=8"],
    "Estimator specs 'name[:key=value,...]', e.g. 'binning:scheme=saxe,bin_size=0.07'. "
    "Repeat the flag for several; pass --estimator= (empty) to train without any.")
flags.DEFINE_enum("schedule", "log", ["log", "every"],
                  "Recording epochs: log-spaced as IDNNs, or every --every epochs.")
flags.DEFINE_integer("schedule_points", 400, "Points of the log-spaced schedule (IDNNs: 400).")
flags.DEFINE_integer("every", 10, "Spacing of the 'every' schedule.")
flags.DEFINE_integer("repeats", 1, "Number of seeds; their mean plane goes to aggregate/.")
flags.DEFINE_float("min_accuracy", 0.0,
                   "Restart a seed whose final training accuracy stays below this (0: off).")
flags.DEFINE_integer("max_restarts", 10, "Give up after this many discarded seeds.")
flags.DEFINE_integer("checkpoint_every", 50, "Epochs between checkpoints for resuming.")
flags.DEFINE_string("logdir", "runs/infoplane", "Output directory.")


def _config() -> infoplane_experiment.ExperimentConfig:
  for name in ("epochs", "batch_size", "repeats", "schedule_points", "every",
               "checkpoint_every"):
    if FLAGS[name].value < 1:
      raise app.UsageError(f"--{name} must be positive, got {FLAGS[name].value}.")
  if FLAGS.dataset not in data.names():
    raise app.UsageError(f"Unknown dataset {FLAGS.dataset!r}; known: {', '.join(data.names())}.")
  if FLAGS.activation not in ("", *presets.ACTIVATIONS):
    raise app.UsageError(f"--activation must be one of {presets.ACTIVATIONS}.")
  if not 0 < FLAGS.train_fraction <= 1:
    raise app.UsageError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
  if not FLAGS.learning_rate > 0:
    raise app.UsageError(f"--learning_rate must be positive, got {FLAGS.learning_rate}.")
  specs = tuple(spec for spec in FLAGS.estimator if spec.strip())
  try:
    for spec in specs:
      estimators_lib.from_spec(spec)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  return infoplane_experiment.ExperimentConfig(
      model=FLAGS.model, activation=FLAGS.activation or None, bits=int(FLAGS.bits),
      dataset=FLAGS.dataset, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
      learning_rate=FLAGS.learning_rate, optimizer=FLAGS.optimizer,
      train_fraction=FLAGS.train_fraction, estimators=specs, schedule=FLAGS.schedule,
      schedule_points=FLAGS.schedule_points, every=FLAGS.every,
      checkpoint_every=FLAGS.checkpoint_every)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  config = _config()
  try:
    inputs = infoplane_experiment.load_inputs(config)
  except (ValueError, data.DatasetUnavailableError) as error:
    raise app.UsageError(str(error)) from None
  summaries.write_hparams(FLAGS.logdir, dict(dataclasses.asdict(config), seed=FLAGS.seed,
                                             repeats=FLAGS.repeats))
  manifest = infoplane_experiment.run(
      config, FLAGS.logdir, seed=FLAGS.seed, repeats=FLAGS.repeats,
      min_accuracy=FLAGS.min_accuracy, max_restarts=FLAGS.max_restarts, log=logging.info,
      inputs=inputs)
  for entry in manifest["kept"]:
    information, training = entry["seconds_information_plane"], entry["seconds_training"]
    print(f"seed {entry['seed']}: train accuracy {entry['train_accuracy']:.3f}, held-out "
          f"accuracy {entry['test_accuracy']:.3f}; time: training {training:.1f} s, "
          f"information plane {information:.1f} s "
          f"({100 * information / max(training, 1e-9):.1f}% of training)")
    print(f"  results file: {os.path.join(entry['run_dir'], 'results.jsonl')}")
    for path in sorted(glob.glob(os.path.join(entry["run_dir"], "infoplane_*.png"))):
      print(f"  information plane: {path}")
  for entry in manifest["discarded"]:
    print(f"seed {entry['seed']}: discarded, training accuracy {entry['train_accuracy']:.3f} "
          f"< --min_accuracy={FLAGS.min_accuracy}")
  for label, path in manifest.get("aggregate", {}).items():
    print(f"mean information plane ({label}): {path}")
  print(f"TensorBoard: tensorboard --logdir {FLAGS.logdir}")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
