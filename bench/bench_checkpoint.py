"""What the run mechanism's checkpoints cost, as a fraction of training time (target <= 5%).

Measured in one run, for the two programs that train:

* SZT size (tfib-infoplane's default: the 12-10-7-5-4-3-2 tanh network, batch 512, the
  (seed, epoch)-ordered data of `tfib.data.epoch_order`): ``model.fit`` for --epochs epochs
  with `RunCheckpoint` committing every 50 epochs (the default --checkpoint_every) against
  the same fit without it, ABBA order, best of --repeats. Also the cost of one commit.
* ResNet quick size (configs/train_classifier_quick.cfg: ResNet-10, width 8, mnist5k,
  batch 128): the time of one training epoch of tfib-train's loop against one commit of
  its resume state (network, optimizer, epoch), which tfib-train writes after every epoch.

    python bench/bench_checkpoint.py [--epochs=300] [--repeats=3]
"""
import argparse
import statistics
import sys
import tempfile
import time

import keras
import tensorflow as tf

from tfib import data, models
from tfib.data import epoch_order
from tfib.runs import Run
from tfib.runs.keras_callbacks import RunCheckpoint
from tfib.training import input_pipeline, optimization
from tfib.training.train_loop import TrainLoop

TARGET = 0.05


def _szt_fit(epochs, checkpoint_every, root):
  x, y = data.szt()
  keras.utils.set_random_seed(0)
  model = models.szt_network("tanh", seed=0)
  model.compile(keras.optimizers.Adam(4e-4), "sparse_categorical_crossentropy",
                metrics=["accuracy"])
  callbacks = []
  if checkpoint_every:
    run = Run(tempfile.mkdtemp(dir=root), "bench")
    checkpoint = RunCheckpoint(run, every=checkpoint_every)
    checkpoint.restore(model)
    callbacks.append(checkpoint)
  dataset, steps = epoch_order.fit_dataset(x, y, 512, 0, epochs)
  model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)  # Compile outside the timing.
  dataset, steps = epoch_order.fit_dataset(x, y, 512, 0, epochs, initial_epoch=1)
  start = time.perf_counter()
  model.fit(dataset, epochs=epochs, initial_epoch=1, steps_per_epoch=steps, verbose=0,
            callbacks=callbacks)
  return time.perf_counter() - start, (run, model) if checkpoint_every else None


def _commit_seconds(run, repeats=7):
  times = []
  for step in range(10_000, 10_000 + repeats):
    start = time.perf_counter()
    run.commit(step)
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def szt(epochs, repeats, root):
  plain, checked = [], []
  for order in range(repeats):  # ABBA: A B B A A B ...
    for every in ((0, 50) if order % 2 == 0 else (50, 0)):
      seconds, _ = _szt_fit(epochs, every, root)
      (checked if every else plain).append(seconds)
  _, (run, _) = _szt_fit(3, 50, root)
  commit = _commit_seconds(run)
  epoch = min(plain) / (epochs - 1)
  measured = min(checked) / min(plain) - 1
  print(f"SZT network, {epochs - 1} epochs of model.fit, best of {repeats} (ABBA):")
  print(f"  without checkpoints       {min(plain):7.2f} s   ({1000 * epoch:.2f} ms per epoch)")
  print(f"  with RunCheckpoint(50)    {min(checked):7.2f} s")
  print(f"  one commit                {1000 * commit:7.2f} ms")
  amortised = commit / (50 * epoch)
  print(f"  cost per epoch, measured  {100 * measured:6.2f} %   from one commit / 50 epochs "
        f"{100 * amortised:.2f} %   target <= {100 * TARGET:.0f} %  "
        f"{'PASS' if max(measured, amortised) <= TARGET else 'FAIL'}")
  print(f"  (a commit every epoch would cost {100 * commit / epoch:.0f} % of an epoch: "
        "hence the default of 50)")


def resnet_quick(root):
  images = input_pipeline.load_image_data("mnist5k")
  steps = input_pipeline.steps_per_epoch(len(images.train_images), 128)
  schedule = optimization.EpochLearningRate(0.1, "cosine", steps, 3)
  loop = TrainLoop(
      tf.distribute.get_strategy(), "classifier",
      lambda: models.resnet_classifier(images.image_shape, 10, width=8, depth=10),
      lambda: optimization.build_optimizer("sgd", schedule, 0.9, 5e-4), 128)
  train_x, train_y = tf.constant(images.train_images), tf.constant(images.train_labels)
  loop.train_epoch(train_x, train_y, 1, 0, True, False)  # Trace outside the timing.
  epochs = []
  for epoch in range(2, 5):
    start = time.perf_counter()
    loop.train_epoch(train_x, train_y, epoch, 0, True, False)
    epochs.append(time.perf_counter() - start)
  run = Run(tempfile.mkdtemp(dir=root), "bench")
  run.track(**loop.trackables())
  run.start()
  commit = _commit_seconds(run)
  epoch = statistics.median(epochs)
  fraction = commit / epoch
  print("ResNet-10 width 8 on mnist5k (tfib-train quick), batch 128:")
  print(f"  one training epoch        {epoch:7.2f} s (median of 3)")
  print(f"  one commit                {1000 * commit:7.2f} ms (median of 7)")
  print(f"  cost per epoch            {100 * fraction:6.2f} %   target <= {100 * TARGET:.0f} %  "
        f"{'PASS' if fraction <= TARGET else 'FAIL'}")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=301)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as root:
    szt(args.epochs, args.repeats, root)
    resnet_quick(root)
  return 0


if __name__ == "__main__":
  sys.exit(main())
