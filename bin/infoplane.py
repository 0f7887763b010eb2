"""tfib-infoplane: information planes of the published networks while they train.

Trains a preset network (default: Shwartz-Ziv & Tishby's 12-10-7-5-4-3-2 on the 12-bit
task) and records I(X;T) and I(T;Y) of every layer, on all inputs, at the scheduled
epochs. Writes one run directory per seed into --logdir (TensorBoard logs, the results
file and one information-plane PNG per estimator), and with --repeats their mean. Killed
at any point, the same command resumes at the seed and epoch it reached.

    tfib-infoplane                                       # quick run, a few minutes on a CPU
    tfib-infoplane --flagfile=configs/idnns_full.cfg     # the paper's 8000 epochs
    tfib-infoplane --flagfile=configs/lorenzen_szt_tanh_quick.cfg --repeats=5
    tensorboard --logdir runs/infoplane
"""
import glob
import os

from absl import app
from absl import flags
from absl import logging

from tfib.bin import shared_flags
from tfib.models import presets

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "szt-tanh", presets.names(), "Network preset.")
flags.DEFINE_string("activation", "", "Hidden activation, tanh or relu; empty: the preset's.")
flags.DEFINE_enum("bits", "32", ["4", "8", "32"],
                  "Quantization of weights and activations (32: float).")
shared_flags.define_training_flags(dataset="szt", epochs=2000, batch_size=512,
                                   learning_rate=4e-4, optimizer="adam")
flags.DEFINE_float("train_fraction", 0.85, "Fraction of the inputs used for training.")
flags.DEFINE_multi_string(
    "estimator", None,
    "Estimator specs 'name[:key=value,...]', e.g. 'binning:scheme=saxe,bin_size=0.07'. "
    "Repeat the flag for several; pass --estimator= (empty) to train without any. Default: "
    "binning, and exact:bits=<--bits> for a quantized network.")
flags.DEFINE_enum("schedule", "log", ["log", "every"],
                  "Recording epochs: log-spaced as IDNNs, or every --every epochs.")
flags.DEFINE_integer("schedule_points", 400, "Points of the log-spaced schedule (IDNNs: 400).",
                     lower_bound=1)
flags.DEFINE_integer("every", 10, "Spacing of the 'every' schedule.", lower_bound=1)
flags.DEFINE_integer("repeats", 1, "Number of seeds; their mean plane goes to aggregate/.",
                     lower_bound=1)
flags.DEFINE_float("min_accuracy", 0.0,
                   "Restart a seed whose final training accuracy stays below this (0: off).")
flags.DEFINE_integer("max_restarts", 10, "Give up after this many discarded seeds.",
                     lower_bound=0)
flags.DEFINE_integer("checkpoint_every", 50, "Epochs between resume states.", lower_bound=1)
shared_flags.define_run_flags(default_logdir="runs/infoplane")


def _config():
  from tfib import estimators  # pylint: disable=g-import-not-at-top
  from tfib.experiments import infoplane  # pylint: disable=g-import-not-at-top

  shared_flags.check_dataset()
  if FLAGS.activation not in ("", *presets.ACTIVATIONS):
    raise app.UsageError(f"--activation must be one of {presets.ACTIVATIONS}.")
  if not 0 < FLAGS.train_fraction <= 1:
    raise app.UsageError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
  bits = int(FLAGS.bits)
  specs = (infoplane.default_estimators(bits) if FLAGS.estimator is None
           else tuple(spec for spec in FLAGS.estimator if spec.strip()))
  try:
    built = [estimators.from_spec(spec) for spec in specs]
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  for spec, estimator in zip(specs, built):
    if estimator.name == "exact" and estimator.bits not in (bits, 32):
      raise app.UsageError(
          f"--estimator={spec} counts {estimator.bits}-bit layers, but the network has "
          f"--bits={bits}{' (float)' if bits == 32 else ''}: use exact:bits={bits}, "
          "exact:bits=32 (float32 values) or binning.")
  return infoplane.ExperimentConfig(
      model=FLAGS.model, activation=FLAGS.activation or None, bits=bits,
      dataset=FLAGS.dataset, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
      learning_rate=FLAGS.learning_rate, optimizer=FLAGS.optimizer,
      train_fraction=FLAGS.train_fraction, estimators=specs, schedule=FLAGS.schedule,
      schedule_points=FLAGS.schedule_points, every=FLAGS.every,
      checkpoint_every=FLAGS.checkpoint_every, seed=FLAGS.seed,
      min_accuracy=FLAGS.min_accuracy)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  shared_flags.quiet_tensorflow()
  from tfib import data, runs  # pylint: disable=g-import-not-at-top
  from tfib.experiments import infoplane  # pylint: disable=g-import-not-at-top
  from tfib.infoplane import RESULTS  # pylint: disable=g-import-not-at-top

  config = _config()
  try:
    inputs = infoplane.load_inputs(config)
  except (ValueError, data.DatasetUnavailableError) as error:
    raise app.UsageError(str(error)) from None
  try:
    result = infoplane.run(config, FLAGS.logdir, repeats=FLAGS.repeats,
                           max_restarts=FLAGS.max_restarts,
                           run_options=shared_flags.run_options(), log=logging.info,
                           inputs=inputs)
  except runs.RunError as error:
    raise app.UsageError(str(error)) from None
  for entry in result["kept"]:
    information, training = entry["seconds_information_plane"], entry["seconds_training"]
    held_out = entry["test_accuracy"]
    print(f"seed {entry['seed']}: train accuracy {entry['train_accuracy']:.3f}, held-out "
          f"accuracy {'-' if held_out is None else f'{held_out:.3f}'}; time: training "
          f"{training:.1f} s, information plane {information:.1f} s "
          f"({100 * information / max(training, 1e-9):.1f}% of training)")
    run_dir = os.path.join(FLAGS.logdir, f"seed_{entry['seed']}")
    print(f"  results file: {os.path.join(run_dir, RESULTS)}")
    for path in sorted(glob.glob(os.path.join(run_dir, "infoplane_*.png"))):
      print(f"  information plane: {path}")
  for entry in result["discarded"]:
    print(f"seed {entry['seed']}: discarded, training accuracy {entry['train_accuracy']:.3f} "
          f"< --min_accuracy={FLAGS.min_accuracy}")
  for label, path in result["aggregate"].items():
    print(f"mean information plane ({label}): {path}")
  print(f"TensorBoard: tensorboard --logdir {FLAGS.logdir}")


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
