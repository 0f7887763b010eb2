"""Images per second of a tfib-train step, with XLA on and off, on one device and mirrored.

The quick configuration (configs/train_classifier_quick.cfg: ResNet-10, width 8, mnist5k,
batch 128) is timed, all in this run, as:

  default           one device, plain TensorFlow graph (the baseline: ratio 1.00)
  default + XLA     one device, forward and backward compiled with jit_compile
  mirrored x2       MirroredStrategy over two logical CPU devices, synchronised batch norm
  mirrored x2 + XLA the same with XLA, per-replica batch norm (XLA cannot compile the
                    cross-replica statistics)

Each contender runs the training step on the same real batches from the tf.data pipeline
(prepared before timing, so the pipeline is not measured); the best of several timed passes
counts, so noise only ever slows a contender. The two logical devices share the machine's
cores: on a CPU the mirrored rows measure the cost of the replication, not a speed-up.

Run: python bench/bench_train.py [--mode=autoencoder] [--steps=20] [--repeats=3]
"""
import argparse
import os
import sys
import time

from tfib.training import strategies

strategies.split_cpu(2)  # Before TensorFlow initialises its devices.

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from tfib import models  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfib.training import input_pipeline, optimization  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfib.training.train_loop import TrainLoop  # pylint: disable=g-import-not-at-top,wrong-import-position

QUICK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs",
                     "train_classifier_quick.cfg")


def _quick_flags():
  """The --key=value lines of the quick flagfile, as a dict of strings."""
  values = {}
  with open(QUICK) as stream:
    for line in stream:
      line = line.strip()
      if line.startswith("--") and "=" in line:
        key, value = line[2:].split("=", 1)
        values[key] = value
  return values


def _contender(strategy, mode, flags, data, jit_compile, sync_batch_norm, steps, repeats):
  width, depth, batch = int(flags["width"]), int(flags["depth"]), int(flags["batch_size"])

  def build_model():
    if mode == "classifier":
      return models.resnet_classifier(data.image_shape, data.num_classes, width=width,
                                      depth=depth, sync_batch_norm=sync_batch_norm)
    return models.resnet_autoencoder(data.image_shape, width=width, depth=depth,
                                     sync_batch_norm=sync_batch_norm)

  loop = TrainLoop(strategy, mode, build_model,
                   lambda: optimization.build_optimizer("sgd", 0.01, 0.9, 5e-4), batch,
                   jit_compile=jit_compile)
  images, labels = tf.constant(data.train_images), tf.constant(data.train_labels)

  def dataset_fn(context):
    return input_pipeline.train_dataset(images, labels, 1, 0, context.get_per_replica_batch_size(
        batch), True, False, context)

  batches = list(strategy.distribute_datasets_from_function(dataset_fn))[:steps]
  float(loop._train_step(*batches[0])[0])  # pylint: disable=protected-access  (trace, warm up)
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    for batch_images, batch_labels in batches:
      sums = loop._train_step(batch_images, batch_labels)  # pylint: disable=protected-access
    float(sums[0])
    best = min(best, time.perf_counter() - start)
  return len(batches) * batch / best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--mode", default="classifier", choices=["classifier", "autoencoder"])
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  tf.get_logger().setLevel("ERROR")

  flags = _quick_flags()
  batch = int(flags["batch_size"])
  data = input_pipeline.load_image_data(flags["dataset"],
                                        max_train_examples=batch * (args.steps + 1))
  default = tf.distribute.get_strategy()
  mirrored = strategies.make_strategy("mirrored")
  if mirrored.num_replicas_in_sync != 2:
    sys.exit(f"expected two logical CPU devices, got {mirrored.num_replicas_in_sync}")
  print(f"tfib-train step, quick configuration ({flags['dataset']}, ResNet-{flags['depth']}, "
        f"width {flags['width']}, batch {batch}), {args.mode}; {args.steps} steps, best of "
        f"{args.repeats}; {os.cpu_count()} CPU cores")
  rows = [
      ("default", default, False, True),
      ("default + XLA", default, True, True),
      ("mirrored x2", mirrored, False, True),
      ("mirrored x2 + XLA", mirrored, True, False),
  ]
  rates = {}
  for name, strategy, jit, sync in rows:
    rates[name] = _contender(strategy, args.mode, flags, data, jit, sync, args.steps,
                             args.repeats)
  baseline = rates["default"]
  print(f"  {'contender':<20} {'images/s':>10} {'vs default':>11}")
  for name, rate in rates.items():
    print(f"  {name:<20} {rate:10.0f} {rate / baseline:10.2f}x")
  return 0


if __name__ == "__main__":
  sys.exit(main())
