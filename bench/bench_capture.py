"""Capture layers are free: training speed of a model with and without them.

The same MLP (784-256-256-256-10, MNIST-sized inputs) is built twice, once with a
`tfib.layers.Capture` after every hidden layer. Both train for the same steps; the ratio of
their times, measured in this run, should be 1 within noise.
"""
import time

import keras
import numpy as np

from tfib.layers import Capture

STEPS, BATCH, REPEATS = 300, 256, 7


def model(with_capture: bool) -> keras.Model:
  inputs = keras.Input((784,))
  hidden = inputs
  for index in range(3):
    hidden = keras.layers.Dense(256, activation="relu")(hidden)
    if with_capture:
      hidden = Capture(name=f"h{index + 1}")(hidden)
  net = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
  net.compile("adam", "sparse_categorical_crossentropy")
  return net


def best_seconds(nets, x, y):
  """Best-of-REPEATS epoch time of each net, measured alternately (ABBA) so that changes
  in the machine's load hit both alike."""
  for net in nets:
    net.fit(x[:BATCH * 10], y[:BATCH * 10], batch_size=BATCH, epochs=1, verbose=0)  # Warm-up.
  best = [float("inf")] * len(nets)
  for round_ in range(REPEATS):
    order = list(enumerate(nets))
    for index, net in (order if round_ % 2 == 0 else order[::-1]):
      start = time.perf_counter()
      net.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
      best[index] = min(best[index], time.perf_counter() - start)
  return best


def main():
  rng = np.random.default_rng(0)
  x = rng.random((STEPS * BATCH, 784), dtype=np.float32)
  y = rng.integers(0, 10, STEPS * BATCH)
  plain, captured = best_seconds([model(False), model(True)], x, y)
  print(f"{STEPS} training steps, batch {BATCH}, best of {REPEATS}")
  print(f"  without Capture  {plain:7.3f} s")
  print(f"  with 3 Capture   {captured:7.3f} s")
  print(f"  ratio            {captured / plain:7.3f}   (1.00 = no cost)")


if __name__ == "__main__":
  main()
