"""Data order as a function of (seed, epoch) or (seed, step), so a replay sees the same data.

Epoch k (1-based: the k-th pass over the data) visits the examples in the permutation drawn
by ``numpy.random.default_rng([seed, k])``. Nothing about the order is saved: a run resumed
after epoch j computes the order of epoch j + 1 from (seed, j + 1), the same order the
uninterrupted run used.

* `fit_dataset` feeds ``model.fit`` (Keras' own ``shuffle=True`` draws from a global
  generator that restarts with the process, so a resumed run would see other batches).
* `step_batch` gives the batch of a step for loops that count steps (the MINE family, the
  PixelCNN++ trainer): full batches cut from each epoch's permutation in turn.
"""
import functools
import math
import numpy as np

__all__ = ["fit_dataset", "permutation", "step_batch"]


def permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
  """The order [N] of epoch ``epoch`` (1-based) for ``seed``."""
  return np.random.default_rng([int(seed), int(epoch)]).permutation(int(num_examples))


@functools.lru_cache(maxsize=4)
def _cached_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
  order = permutation(num_examples, seed, epoch)
  order.setflags(write=False)
  return order


def step_batch(num_examples: int, batch_size: int, seed: int, step: int) -> np.ndarray:
  """Indices [B] of the batch of training step ``step`` (0-based).

  Each epoch gives floor(N / B) full batches of its permutation (the rest of it is not
  used in that epoch); step s is batch s mod floor(N / B) of epoch s div floor(N / B) + 1.
  """
  per_epoch = num_examples // batch_size
  if per_epoch < 1:
    raise ValueError(f"batch_size {batch_size} exceeds the {num_examples} examples.")
  epoch, position = divmod(int(step), per_epoch)
  order = _cached_permutation(int(num_examples), int(seed), epoch + 1)
  return order[position * batch_size:(position + 1) * batch_size]


def fit_dataset(x, y, batch_size: int, seed: int, epochs: int, initial_epoch: int = 0):
  """(dataset, steps_per_epoch) of the epochs ``initial_epoch`` + 1 .. ``epochs`` for
  ``model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch,
  steps_per_epoch=steps_per_epoch)``.

  Every example is visited once per epoch, in `permutation` order, in batches of
  ``batch_size`` (the last one smaller if B does not divide N).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  x, y = np.asarray(x), np.asarray(y)
  num_examples = len(x)
  if num_examples == 0:
    raise ValueError("No training examples.")
  if len(y) != num_examples:
    raise ValueError(f"{len(y)} labels for {num_examples} examples.")
  if not 0 <= initial_epoch <= epochs:
    raise ValueError(f"initial_epoch {initial_epoch} is not in [0, {epochs}].")
  steps = math.ceil(num_examples / batch_size)

  def order(epoch):
    return permutation(num_examples, seed, int(epoch)).astype(np.int64)

  def epoch_batches(epoch):
    indices = tf.numpy_function(order, [epoch], tf.int64, stateful=False)
    indices.set_shape([num_examples])
    return tf.data.Dataset.from_tensor_slices(indices).batch(batch_size)

  x_all, y_all = tf.constant(x), tf.constant(y)
  dataset = tf.data.Dataset.range(initial_epoch + 1, epochs + 1).flat_map(epoch_batches)
  dataset = dataset.map(lambda i: (tf.gather(x_all, i), tf.gather(y_all, i)),
                        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE), steps

