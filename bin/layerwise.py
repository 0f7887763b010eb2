"""tfib-layerwise: layer-by-layer training with the IB Lagrangian (Elad, Haviv, Blau &
Michaeli), compared with the same network trained end to end on cross-entropy.

Each layer is trained alone on I(T_σ;Y) − β·I(T_prev;T_σ), T_σ = T + N(0, σ²) (the
relevance through a softmax head, the compression through the Gaussian channel with the
layer map inside the critic), then frozen before the next; the last layer's head is the
classifier. The same layers trained end to end, same data, same epochs per parameter, are
the baseline in the same run. Printed and saved: test accuracy of both, per layer
I(X;T_σ) and I(T_σ;Y) (KDE bounds at the same σ), training times; with several --beta the
accuracy against β and the β sweep's information planes. Killed at any point, the same
command resumes.

    tfib-layerwise --flagfile=configs/elad_mnist_quick.cfg       # mnist5k, offline, minutes
    tfib-layerwise --flagfile=configs/elad_mnist.cfg             # full MNIST through tfds
    tfib-layerwise --flagfile=configs/elad_mnist.cfg --beta=0,1e-3,1e-2,1e-1
    tensorboard --logdir runs/layerwise
"""
import os
import sys

from absl import app
from absl import flags
from absl import logging

from tfib.bin import shared_flags

FLAGS = flags.FLAGS
flags.DEFINE_list("layers", ["dense512", "dense256", "dense128"],
                  "The layers, in order: dense<units> or conv<filters> (3x3, stride 2; "
                  "convolutions first).")
flags.DEFINE_enum("activation", "relu", ["relu", "tanh", "sigmoid", "elu", "gelu", "silu"],
                  "Activation of every layer.")
flags.DEFINE_float("noise_std", 1.0, "σ of the channel T_σ = T + σε of the IB terms and of "
                   "the KDE measurement (units of the activations).")
flags.DEFINE_list("beta", ["0", "0.001", "0.01", "0.1"],
                  "β of the IB Lagrangian; several values make a sweep (one layer-wise "
                  "network each).")
shared_flags.define_dataset("mnist5k")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory (default "
                    "~/tensorflow_datasets).")
flags.DEFINE_integer("max_train_examples", 0, "Use a fixed subset of this many training "
                     "examples (0: all).", lower_bound=0)
flags.DEFINE_integer("max_eval_examples", 0, "Use a fixed subset of this many test "
                     "examples (0: all).", lower_bound=0)
shared_flags.define_epochs(20)
flags.FLAGS["epochs"].help = ("Epochs per layer (layer-wise) and in all (end to end): every "
                              "parameter trains this many epochs in both.")
shared_flags.define_batch_size(128)
shared_flags.define_learning_rate(1e-3)
shared_flags.define_seed()
flags.DEFINE_integer("measure_samples", 1000, "Test inputs the KDE bounds are computed on.",
                     lower_bound=2)
shared_flags.define_run_flags(default_logdir="runs/layerwise")


def _betas():
  try:
    return [float(value) for value in FLAGS.beta]
  except ValueError:
    raise app.UsageError(f"--beta takes numbers, got {','.join(FLAGS.beta)}.") from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  shared_flags.quiet_tensorflow()
  from tfib import data, runs  # pylint: disable=g-import-not-at-top
  from tfib.experiments import layerwise  # pylint: disable=g-import-not-at-top
  from tfib.training.layerwise_ib import LayerwiseConfig  # pylint: disable=g-import-not-at-top

  shared_flags.check_dataset()
  try:
    betas = layerwise.check_betas(_betas())
    config = layerwise.ExperimentConfig(
        network=LayerwiseConfig(layers=tuple(FLAGS.layers), activation=FLAGS.activation,
                                noise_std=FLAGS.noise_std, epochs=FLAGS.epochs,
                                batch_size=FLAGS.batch_size,
                                learning_rate=FLAGS.learning_rate, seed=FLAGS.seed),
        dataset=FLAGS.dataset, max_train_examples=FLAGS.max_train_examples,
        max_eval_examples=FLAGS.max_eval_examples, measure_samples=FLAGS.measure_samples)
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  try:
    inputs = layerwise.load_data(config, FLAGS.data_dir)
  except data.DatasetUnavailableError as error:
    sys.exit(f"tfib-layerwise: error: {error}")
  except ValueError as error:
    raise app.UsageError(str(error)) from None
  try:
    summary = layerwise.run(config, betas, FLAGS.logdir, inputs,
                            run_options=shared_flags.run_options(), log=logging.info)
  except (ValueError, runs.RunError) as error:
    raise app.UsageError(str(error)) from None
  print(layerwise.comparison_table(summary))
  for result in summary["layerwise"].values():
    if result["status"] != "done":
      print(f"beta = {result['beta']:g}: {result['status']}: {result['reason']}")
  if summary["gap_points"] is not None:
    print(f"best beta {summary['best_beta']:g}: test accuracy "
          f"{summary['layerwise'][layerwise.beta_name(summary['best_beta'])]['test_accuracy']:.4f}"
          f", end to end {summary['end_to_end']['test_accuracy']:.4f} "
          f"(gap {summary['gap_points']:+.2f} points)")
  directory = os.path.join(FLAGS.logdir, "summary")
  print(f"summary: {os.path.join(directory, 'summary.json')}")
  print(f"figure: {os.path.join(directory, 'layerwise.png')}")
  print(f"TensorBoard: tensorboard --logdir {FLAGS.logdir}")


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
