"""The custom training loop of `tfib-train`: one epoch at a time under a tf.distribute strategy.

Mathematical details
--------------------
With a global batch of B examples split over R replicas, each replica computes the sum of
its examples' losses divided by B, and the optimizer sums the replicas' gradients:

    g = sum_r grad( sum_{i in batch_r} l_i / B ) = grad( 1/B sum_{i=1..B} l_i ),

the gradient of the global-batch mean, whatever R is. With ``sync_batch_norm`` the batch
statistics are also taken over the global batch, so R devices follow the same loss curve as
one (up to the order of floating-point sums).

Losses: the classifier minimises the cross-entropy of the logits, l_i = -log softmax(f(x_i))
[y_i], and reports accuracy; the autoencoder minimises the per-pixel mean squared error
l_i = ||x_i - g(x_i)||^2 / (H W C) on pixels in [0, 1] and reports its root in grey levels,
255 sqrt(mean l_i).

Resume state: `TrainLoop.trackables` are the network, the optimizer (with its step
counter, which drives the learning-rate schedule) and ``epoch`` (the last completed epoch).
The data order and augmentation of an epoch are functions of (seed, epoch)
(`tfib.training.input_pipeline`), so these three restore the run exactly.

``jit_compile`` compiles each replica's forward and backward pass with XLA; the optimizer
update runs outside it, where it can aggregate gradients across replicas.
"""
from typing import Callable, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from tfib import data as tfib_data
from tfib.training import input_pipeline
from tfib.training.train_config import MODES

__all__ = ["TrainLoop"]


class TrainLoop:
  """A model and optimizer built under ``strategy``, with compiled train and eval steps."""

  def __init__(self, strategy: tf.distribute.Strategy, mode: str,
               build_model: Callable[[], keras.Model],
               build_optimizer: Callable[[], keras.optimizers.Optimizer],
               global_batch_size: int, jit_compile: bool = False):
    if mode not in MODES:
      raise ValueError(f"Unknown mode {mode!r}; choose one of {MODES}.")
    self.strategy = strategy
    self.mode = mode
    self.global_batch_size = int(global_batch_size)
    self.jit_compile = bool(jit_compile)
    with strategy.scope():
      self.model = build_model()
      self.optimizer = build_optimizer()
      self.optimizer.build(self.model.trainable_variables)
    self.epoch = tf.Variable(-1, dtype=tf.int64, trainable=False, name="epoch")
    on_tpu = isinstance(strategy, tf.distribute.TPUStrategy)
    # On a TPU the whole step is compiled anyway; elsewhere XLA compiles the per-replica
    # forward and backward pass.
    self._gradients = (tf.function(self._forward_backward, jit_compile=True)
                       if self.jit_compile and not on_tpu else self._forward_backward)
    self._train_step = tf.function(self._distributed_train_step)
    self._eval_step = tf.function(self._distributed_eval_step)

  def trackables(self) -> Dict[str, object]:
    """What the resume state holds: network, optimizer (with its step) and epoch counter."""
    return {"model": self.model, "optimizer": self.optimizer, "epoch": self.epoch}

  # --- losses -------------------------------------------------------------------------

  def _per_example(self, images, labels, outputs):
    """(per-example loss [b], per-example metric [b]) of one replica's batch."""
    if self.mode == "classifier":
      losses = keras.losses.sparse_categorical_crossentropy(labels, outputs, from_logits=True)
      correct = tf.cast(tf.equal(tf.argmax(outputs, -1, output_type=labels.dtype), labels),
                        tf.float32)
      return losses, correct
    losses = tf.reduce_mean(tf.square(images - outputs), axis=[1, 2, 3])
    return losses, losses

  def _forward_backward(self, images, labels):
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      outputs = self.model(images, training=True)
      losses, metric = self._per_example(images, labels, outputs)
      loss = tf.reduce_sum(losses) / self.global_batch_size
    gradients = tape.gradient(loss, variables)
    count = tf.cast(tf.shape(losses)[0], tf.float32)
    return gradients, tf.stack([tf.reduce_sum(losses), tf.reduce_sum(metric), count])

  def _replica_train_step(self, images, labels):
    gradients, sums = self._gradients(images, labels)
    self.optimizer.apply_gradients(zip(gradients, self.model.trainable_variables))
    return sums

  def _distributed_train_step(self, images, labels):
    sums = self.strategy.run(self._replica_train_step, (images, labels))
    return self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)

  def _replica_eval_step(self, images, labels):
    outputs = self.model(images, training=False)
    losses, metric = self._per_example(images, labels, outputs)
    count = tf.cast(tf.shape(losses)[0], tf.float32)
    return tf.stack([tf.reduce_sum(losses), tf.reduce_sum(metric), count])

  def _distributed_eval_step(self, images, labels):
    sums = self.strategy.run(self._replica_eval_step, (images, labels))
    return self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)

  # --- epochs -------------------------------------------------------------------------

  def _metrics(self, sums, prefix: str) -> Dict[str, float]:
    loss_sum, metric_sum, count = (float(v) for v in sums)
    count = max(count, 1.0)
    metrics = {f"{prefix}loss": loss_sum / count}
    if self.mode == "classifier":
      metrics[f"{prefix}accuracy"] = metric_sum / count
    else:
      metrics[f"{prefix}reconstruction_error"] = 255.0 * float(np.sqrt(metric_sum / count))
    return metrics

  def train_epoch(self, images: tf.Tensor, labels: tf.Tensor, epoch: int, seed: int,
                  augment: bool, mirror: bool) -> Dict[str, float]:
    """Trains epoch ``epoch`` (1-based); returns its mean training loss and metric."""

    def dataset_fn(input_context):
      per_replica = input_context.get_per_replica_batch_size(self.global_batch_size)
      return input_pipeline.train_dataset(images, labels, epoch, seed, per_replica, augment,
                                          mirror, input_context)

    dataset = self.strategy.distribute_datasets_from_function(dataset_fn)
    totals = []
    for batch_images, batch_labels in dataset:
      totals.append(self._train_step(batch_images, batch_labels))
    if not totals:
      raise ValueError("The training set gives no full batch.")
    return self._metrics(tf.add_n(totals), "train_")

  def evaluate(self, dataset: tf.data.Dataset) -> Dict[str, float]:
    """Mean loss and metric over ``dataset`` (see `input_pipeline.eval_dataset`)."""
    totals = [self._eval_step(x, y)
              for x, y in self.strategy.experimental_distribute_dataset(dataset)]
    return self._metrics(tf.add_n(totals), "eval_")

  @property
  def learning_rate(self) -> float:
    """The learning rate of the optimizer's next step."""
    return float(self.optimizer.learning_rate)

  def reconstruction_grid(self, images: np.ndarray) -> Optional[np.ndarray]:
    """[1, 2H, nW, C] uint8: ``images`` above their reconstructions (autoencoders only)."""
    if self.mode != "autoencoder" or len(images) == 0:
      return None
    originals = tfib_data.to_float(images)
    reconstructions = np.asarray(self.model(originals, training=False))
    rows = [np.concatenate(list(block), axis=1) for block in (originals, reconstructions)]
    grid = np.clip(np.round(np.concatenate(rows, axis=0) * 255.0), 0, 255).astype(np.uint8)
    return grid[np.newaxis]
