"""tfib-layerwise's targets, measured in one run.

1. The quick configuration (configs/elad_mnist_quick.cfg) as a user runs it: wall time of
   ``tfib-layerwise --flagfile=...`` (target: under 15 minutes on 2 CPU cores) and the
   comparison it prints.
2. Accuracy (target: the layer-wise network within 1.5 points of the cross-entropy one at
   the best β of a sweep of at least 4 values, both from the same run), with the settings of
   configs/elad_mnist.cfg on the largest MNIST at hand: full MNIST if tensorflow-datasets has
   it (or can download it); else, offline, the 5,000 MNIST training images of mnist5k with
   the 10,000-image MNIST test set read from --mnist_test (idx files, default
   ../shared/data/mnist); else mnist5k's own held-out split. It says which.

    python bench/bench_layerwise.py [--mnist_test=DIR] [--skip_quick]
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.path.join(REPO, "configs", "elad_mnist_quick.cfg")
FULL = os.path.join(REPO, "configs", "elad_mnist.cfg")
TARGET_POINTS = 1.5
TARGET_QUICK_SECONDS = 900


def _idx(path):
  with gzip.open(path, "rb") as stream:
    data = stream.read()
  dims = data[3]
  shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
  return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _data(config, mnist_test):
  """(data tuple, description) on the largest MNIST available (see the docstring)."""
  from tfib import data as tfib_data
  from tfib.experiments import layerwise
  import dataclasses

  try:
    return layerwise.load_data(dataclasses.replace(config, dataset="mnist")), (
        "full MNIST (tensorflow-datasets): 60,000 training, 10,000 test images")
  except tfib_data.DatasetUnavailableError as error:
    print(f"full MNIST not available here ({str(error).splitlines()[0][:120]}...)")
  images = os.path.join(mnist_test, "t10k-images-idx3-ubyte.gz")
  labels = os.path.join(mnist_test, "t10k-labels-idx1-ubyte.gz")
  x, y = tfib_data.load("mnist5k")
  x = tfib_data.to_float(x).reshape(-1, 28, 28, 1)
  facts = {"name": "mnist5k+mnist_test", "num_classes": 10}
  if os.path.exists(images) and os.path.exists(labels):
    x_test = tfib_data.to_float(_idx(images)).reshape(-1, 28, 28, 1)
    y_test = _idx(labels).astype(np.int32)
    facts.update(train_examples=len(x), eval_examples=len(x_test), eval_split="MNIST test")
    return (x, y.astype(np.int32), x_test, y_test, facts), (
        "mnist5k's 5,000 MNIST training images, tested on the 10,000 MNIST test images "
        f"({mnist_test}); full MNIST needs a download")
  return layerwise.load_data(dataclasses.replace(config, dataset="mnist5k")), (
      "mnist5k: 4,000 training, 1,000 held-out images (no MNIST test set found)")


def quick():
  with tempfile.TemporaryDirectory() as logdir:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tfib.bin.layerwise",
                             f"--flagfile={QUICK}", f"--logdir={logdir}"],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
  if result.returncode != 0:
    print(f"quick configuration FAILED (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return None
  print(result.stdout)
  return seconds


def accuracy(mnist_test):
  from tfib.experiments import layerwise
  from tfib.training.layerwise_ib import LayerwiseConfig

  from tfib.bin import shared_flags
  flags = shared_flags.read_flagfile(FULL)
  network = LayerwiseConfig(layers=tuple(flags["layers"].split(",")),
                            activation=flags["activation"],
                            noise_std=float(flags["noise_std"]), epochs=int(flags["epochs"]),
                            batch_size=int(flags["batch_size"]),
                            learning_rate=float(flags["learning_rate"]))
  config = layerwise.ExperimentConfig(network=network, dataset="mnist",
                                      measure_samples=int(flags["measure_samples"]))
  betas = [float(b) for b in flags["beta"].split(",")]
  data, description = _data(config, mnist_test)
  print(f"data: {description}")
  with tempfile.TemporaryDirectory() as logdir:
    started = time.perf_counter()
    summary = layerwise.run(config, betas, logdir, data, log=lambda _: None)
    seconds = time.perf_counter() - started
  print(layerwise.comparison_table(summary))
  return summary, seconds, len(betas)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--mnist_test", default=os.path.join(REPO, "..", "shared", "data",
                                                           "mnist"))
  parser.add_argument("--skip_quick", action="store_true")
  args = parser.parse_args()
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  quick_seconds = None if args.skip_quick else quick()
  summary, seconds, num_betas = accuracy(args.mnist_test)
  print()
  if not args.skip_quick:
    ok = quick_seconds is not None and quick_seconds < TARGET_QUICK_SECONDS
    shown = "failed" if quick_seconds is None else f"{quick_seconds:.0f} s"
    print(f"quick configuration wall time: {shown} (target < {TARGET_QUICK_SECONDS} s): "
          f"{'PASS' if ok else 'FAIL'}")
  baseline = summary["end_to_end"]
  if summary["gap_points"] is None:
    print("accuracy: FAIL (no finished network to compare)")
    return
  best = summary["layerwise"][f"beta_{summary['best_beta']:g}"]
  print(f"end to end (cross-entropy): test accuracy {baseline['test_accuracy']:.4f}, "
        f"{baseline['train_seconds']:.1f} s training")
  print(f"layer-wise at the best beta {summary['best_beta']:g} of {num_betas}: "
        f"{best['test_accuracy']:.4f}, {best['train_seconds']:.1f} s training")
  ok = summary["gap_points"] <= TARGET_POINTS and num_betas >= 4
  print(f"gap {summary['gap_points']:+.2f} points (target <= {TARGET_POINTS}, >= 4 betas): "
        f"{'PASS' if ok else 'FAIL'}; the sweep took {seconds:.0f} s")


if __name__ == "__main__":
  main()
