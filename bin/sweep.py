"""tfib-sweep: Li & Liu's CNN sweeps, with the diagnostics that tell compression from
estimator artefacts.

Trains a CNN (--width filters per convolution, --kernel, --depth convolutions, --pooling,
--dense hidden dense layers, --activation) for every point of --grid and records the
information plane of every layer, with the fraction of distinct codes, tanh saturation and
a bin-count sweep. The summary says, per layer, "saturated: this layer's I(X;T) cannot move"
where I(X;T) sits at log2 N, and "compression observed" only below the ceiling; it draws
final I(X;T) and I(T;Y) against each swept parameter, and fills TensorBoard's hparams
dashboard across the grid. Killed at any point, the same command resumes; --job=<k> runs
grid point k alone (a job array), and a run without --job completes and summarises the rest.

    tfib-sweep --flagfile=configs/li_liu_width_quick.cfg     # mnist5k, offline, minutes
    tfib-sweep --flagfile=configs/li_liu_width.cfg           # the paper's size
    tfib-sweep --grid="width=1,3,6,12;kernel=3" --dataset=fashion_mnist \\
        --estimator=binning:scheme=saxe,bin_size=0.67
    tensorboard --logdir runs/sweep
"""
import os

from absl import app
from absl import flags
from absl import logging

from tfib.bin import shared_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("grid", "width=1,3,6,12",
                    "Grid: 'name=v1,v2;name=v1,...' over width, kernel, depth, pooling "
                    "(on/off), dense, activation; every combination is a grid point.")
flags.DEFINE_integer("width", 6, "Filters per convolution (unless the grid sets it).",
                     lower_bound=1)
flags.DEFINE_integer("kernel", 3, "Kernel size of the convolutions.", lower_bound=1)
flags.DEFINE_integer("depth", 6, "Number of convolutions.", lower_bound=1)
flags.DEFINE_bool("pooling", False, "2x2 max-pooling after each convolution.")
flags.DEFINE_integer("dense", 0, "Hidden dense layers after the convolutions.",
                     lower_bound=0)
flags.DEFINE_integer("dense_units", 64, "Units of each hidden dense layer.", lower_bound=1)
flags.DEFINE_enum("activation", "relu", ["relu", "tanh"], "Activation of the hidden layers.")
shared_flags.define_training_flags(dataset="mnist5k", epochs=10, batch_size=128,
                                   learning_rate=1e-3, optimizer="adam")
flags.DEFINE_integer("max_examples", 0, "Use a fixed random subset of this many inputs "
                     "(0: all).", lower_bound=0)
flags.DEFINE_float("train_fraction", 0.85, "Fraction of the inputs used for training.")
flags.DEFINE_multi_string("estimator", ["binning:scheme=saxe,bin_size=0.67"],
                          "Estimator specs (the first one is summarised); default: Li & "
                          "Liu's floor binning of bin size 0.67 on the flattened maps.")
flags.DEFINE_enum("schedule", "every", ["log", "every"], "Recording epochs.")
flags.DEFINE_integer("schedule_points", 100, "Points of the log-spaced schedule.",
                     lower_bound=1)
flags.DEFINE_integer("every", 2, "Spacing of the 'every' schedule.", lower_bound=1)
flags.DEFINE_integer("repeats", 1, "Seeds per grid point.", lower_bound=1)
flags.DEFINE_integer("checkpoint_every", 5, "Epochs between resume states.", lower_bound=1)
flags.DEFINE_integer("job", None, "Run only grid point number JOB (0-based): one job of a "
                     "job array. Without it every point runs, then the summary.")
shared_flags.define_run_flags(default_logdir="runs/sweep")


def _sweep():
  from tfib import estimators  # pylint: disable=g-import-not-at-top
  from tfib.experiments import infoplane, sweep  # pylint: disable=g-import-not-at-top

  shared_flags.check_dataset()
  if not 0 < FLAGS.train_fraction <= 1:
    raise app.UsageError(f"--train_fraction must be in (0, 1], got {FLAGS.train_fraction}.")
  specs = tuple(spec for spec in FLAGS.estimator if spec.strip())
  if not specs:
    raise app.UsageError("Give at least one --estimator.")
  try:
    for spec in specs:
      estimators.from_spec(spec)
    sweep.parse_grid(FLAGS.grid)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  base = infoplane.ExperimentConfig(
      model="cnn", dataset=FLAGS.dataset, max_examples=FLAGS.max_examples,
      epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
      optimizer=FLAGS.optimizer, train_fraction=FLAGS.train_fraction, estimators=specs,
      schedule=FLAGS.schedule, schedule_points=FLAGS.schedule_points, every=FLAGS.every,
      checkpoint_every=FLAGS.checkpoint_every, seed=FLAGS.seed)
  return sweep.SweepConfig(base=base, grid=FLAGS.grid, width=FLAGS.width, kernel=FLAGS.kernel,
                           depth=FLAGS.depth, pooling=FLAGS.pooling, dense=FLAGS.dense,
                           dense_units=FLAGS.dense_units, activation=FLAGS.activation)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  shared_flags.quiet_tensorflow()
  from tfib import data, runs  # pylint: disable=g-import-not-at-top
  from tfib.experiments import infoplane, sweep  # pylint: disable=g-import-not-at-top

  config = _sweep()
  try:
    inputs = infoplane.load_inputs(sweep.point_config(config, config.points()[0]))
    sweep.check(config, inputs[0].shape[1:], int(inputs[1].max()) + 1)
  except (ValueError, data.DatasetUnavailableError) as error:
    raise app.UsageError(str(error)) from None
  try:
    summary = sweep.run(config, FLAGS.logdir, repeats=FLAGS.repeats, job=FLAGS.job,
                        run_options=shared_flags.run_options(), log=logging.info,
                        inputs=inputs)
  except (runs.RunError, ValueError) as error:
    raise app.UsageError(str(error)) from None
  for name, point in summary["points"].items():
    print(f"{name}: held-out accuracy {point['test_accuracy']:.3f}")
    for layer, found in point["layers"].items():
      print(f"  {layer}: I(X;T) {found['final_i_xt']:.3f} of log2 N {found['log2_n']:.2f}, "
            f"distinct codes {found['distinct_fraction']:.2%}: {found['verdict']}")
  if summary["pending"]:
    print(f"not finished yet: {', '.join(summary['pending'])} (run without --job to finish)")
  directory = os.path.join(FLAGS.logdir, "summary")
  print(f"summary: {os.path.join(directory, 'summary.json')}")
  for name in sorted(os.listdir(directory)):
    if name.endswith(".png"):
      print(f"figure: {os.path.join(directory, name)}")
  print(f"TensorBoard: tensorboard --logdir {FLAGS.logdir}")


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
