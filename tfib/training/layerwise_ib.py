"""Layer-by-layer training with the IB Lagrangian (Elad et al. 2019), and its end-to-end
cross-entropy baseline, as resumable runs.

A network is a `tfib.models.layer_stack.LayerStack` (`LayerwiseConfig.layers`, e.g.
"dense512,dense256" or "conv32,conv64,dense256"), each layer with a softmax head.
**Layer-wise**, layer l is trained alone — its input T_{l−1} the frozen output of the
layers below, computed afresh from them — for ``epochs`` epochs on

    loss = −[H(Y) − CE(head_l(T_σ), Y)] + β · upper(I(T_{l−1}; T_σ)),
    T_σ = g_l(T_{l−1}) + σε,

the bounds of `tfib.estimators.ib_terms`: the relevance term through the layer's head, the
compression term through the Gaussian channel whose critic is the layer map itself, so one
optimizer updates layer and head jointly (no separate critic to alternate with). Then the
layer is frozen and the next one trained on its clean output T = g_l(T_{l−1}). The noise
enters both terms: a layer cannot compress by shrinking its output without losing
relevance to the same noise. A prediction is argmax of the last layer's head on the clean
output (noise is a training device, as in dropout).

**End to end**, the same layers and the last head are trained together on cross-entropy of
clean outputs for ``epochs`` epochs: every parameter gets the same number of epochs in both.

Both loops are functions of (seed, epoch): epoch k visits the training set in
`tfib.data.epoch_order.permutation` order (full batches), the noise of batch b of epoch k is
drawn from the stateless seed (seed, k, b). Each epoch is committed to the run; a run
killed at any point and restarted resumes to the run it would have been. A non-finite loss
stops the training there (`Diverged`), keeping the layers finished before.
"""
import dataclasses
import math
import time
from typing import Callable, Dict, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfib.data import epoch_order
from tfib.estimators import ib_terms
from tfib.models.layer_stack import LayerStack, parse_layers
from tfib.runs import crash_points, tensorboard
from tfib.runs.progress import Progress
from tfib.runs.run import Run

__all__ = ["Diverged", "LayerwiseConfig", "train_end_to_end", "train_layerwise"]

_LN2 = math.log(2.0)


class Diverged(RuntimeError):
  """Training produced a non-finite loss."""


@dataclasses.dataclass(frozen=True)
class LayerwiseConfig:
  """The network and its training (both regimes)."""
  layers: Tuple[str, ...] = ("dense512", "dense256", "dense128")
  activation: str = "relu"
  noise_std: float = 0.5     # σ of T_σ = T + σε (units of the activations).
  epochs: int = 10           # Per layer (layer-wise) and in all (end to end).
  batch_size: int = 128
  learning_rate: float = 1e-3
  seed: int = 0

  def __post_init__(self):
    parse_layers(self.layers)
    if self.activation not in ("relu", "tanh", "sigmoid", "elu", "gelu", "silu"):
      raise ValueError(f"Unknown activation {self.activation!r}; choose relu, tanh, "
                       "sigmoid, elu, gelu or silu.")
    if not (self.noise_std > 0 and math.isfinite(self.noise_std)):
      raise ValueError(f"noise_std must be positive and finite (σ of the channel T + σε), "
                       f"got {self.noise_std}.")
    for name in ("epochs", "batch_size"):
      if int(getattr(self, name)) < 1 or getattr(self, name) != int(getattr(self, name)):
        raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}.")
    if self.batch_size < 2:
      raise ValueError("batch_size must be at least 2 (the compression bound compares each "
                       "sample with the others of its batch).")
    if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
      raise ValueError(f"learning_rate must be positive, got {self.learning_rate}.")

  def as_dict(self):
    return dataclasses.asdict(self)

  def network(self, input_shape, num_classes: int) -> LayerStack:
    """The network these settings describe, for inputs of ``input_shape``."""
    return LayerStack(self.layers, input_shape, num_classes, self.activation, self.seed)


def _flat(t):
  return tf.reshape(t, [tf.shape(t)[0], -1])


def _optimizer(config, variables):
  optimizer = keras.optimizers.Adam(config.learning_rate)
  optimizer.build(variables)
  return optimizer


def _label_entropy_nats(labels, num_classes) -> float:
  p = np.bincount(labels, minlength=num_classes) / len(labels)
  p = p[p > 0]
  return float(-(p * np.log(p)).sum())


def _batches(num_examples, batch_size, seed, epoch):
  order = epoch_order.permutation(num_examples, seed, epoch)
  for b in range(num_examples // batch_size):
    yield b, order[b * batch_size:(b + 1) * batch_size]


def _check_data(x, y, batch_size):
  if len(x) == 0:
    raise ValueError("No training examples.")
  if len(x) != len(y):
    raise ValueError(f"{len(x)} training inputs but {len(y)} labels.")
  if len(x) < batch_size:
    raise ValueError(f"batch_size {batch_size} exceeds the {len(x)} training examples.")
  if not np.all(np.isfinite(x)):
    raise ValueError("The training inputs hold NaN or Inf values.")


def train_layerwise(config: LayerwiseConfig, network: LayerStack, x, y, beta: float, run: Run,
                    on_layer_done: Callable[[int, int], Dict]) -> float:
  """Trains ``network`` layer by layer on the IB Lagrangian with multiplier ``beta``.

  After each layer's last epoch, ``on_layer_done(layer_index, step)`` returns a record
  for the run's ``layers.jsonl``. Returns the training seconds (summed over resumes).
  Raises `Diverged` (after committing what was finished) on a non-finite loss.
  """
  c = config
  if not (beta >= 0 and math.isfinite(beta)):
    raise ValueError(f"beta must be >= 0 and finite, got {beta}.")
  _check_data(x, y, c.batch_size)
  h_y = _label_entropy_nats(y, network.num_classes)
  optimizers = [_optimizer(c, layer.trainable_variables + head.trainable_variables)
                for layer, head in zip(network.layers, network.heads)]
  run.track(**network.trackables(),
            **{f"optimizer_{i + 1}": opt for i, opt in enumerate(optimizers)})
  resumed = run.start() or 0
  epochs = run.journal("epochs.jsonl")
  layers = run.journal("layers.jsonl")
  writer = run.writer()
  total = c.epochs * len(network.layers)
  progress = Progress(total, "epoch", start=resumed)
  sigma = float(c.noise_std)

  def make_step(index):
    layer, head, optimizer = network.layers[index], network.heads[index], optimizers[index]
    variables = layer.trainable_variables + head.trainable_variables

    @tf.function
    def step(t_prev, labels, seed):
      with tf.GradientTape() as tape:
        clean = layer(t_prev, training=True)
        noisy = clean + sigma * tf.random.stateless_normal(tf.shape(clean), seed)
        relevance = ib_terms.relevance_bound(head(noisy, training=True), labels, h_y)
        lower, upper = ib_terms.channel_bounds(_flat(noisy), _flat(clean), sigma)
        loss = -relevance + beta * upper
      optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
      return tf.stack([loss, relevance, lower, upper])
    return step

  seconds = sum(r["seconds"] for r in epochs.records())
  for index in range(len(network.layers)):
    first = index * c.epochs
    if resumed >= first + c.epochs:
      continue
    step = make_step(index)
    t_prev = x if index == 0 else network.outputs(x, index)[-1]
    for epoch in range(max(resumed, first) + 1, first + c.epochs + 1):
      began = time.perf_counter()
      sums = np.zeros(4)
      count = 0
      for b, batch in _batches(len(x), c.batch_size, c.seed, epoch):
        values = step(tf.constant(t_prev[batch]), tf.constant(y[batch]),
                      tf.constant([c.seed, epoch * 1_000_000 + b], tf.int64)).numpy()
        if not np.all(np.isfinite(values)):
          raise Diverged(f"layer {index + 1}, epoch {epoch - first}: the loss is not finite "
                         f"({values[0]}); layers 1..{index} are kept. Lower the learning "
                         "rate or beta.")
        sums += values
        count += 1
      mean = sums / count
      elapsed = time.perf_counter() - began
      seconds += elapsed
      name = network.names[index]
      tensorboard.write_scalars(writer, [
          (f"layerwise/{name}/loss", mean[0], epoch),
          (f"layerwise/{name}/I_TY_bound", mean[1] / _LN2, epoch),
          (f"layerwise/{name}/I_XT_lower", mean[2] / _LN2, epoch),
          (f"layerwise/{name}/I_XT_upper", mean[3] / _LN2, epoch)])
      epochs.append([{"step": epoch, "layer": name, "loss": float(mean[0]),
                      "i_ty_bound_bits": float(mean[1] / _LN2),
                      "i_xt_lower_bits": float(mean[2] / _LN2),
                      "i_xt_upper_bits": float(mean[3] / _LN2), "seconds": elapsed}])
      if epoch == first + c.epochs:
        layers.append([dict(on_layer_done(index, epoch), step=epoch)])
      writer.flush()
      crash_points.crash_point("layerwise_epoch")
      run.commit(epoch)
      progress.update(epoch, f"{name} I(T;Y) ≥ {mean[1] / _LN2:.3f} bits, I(X;T_σ) ≤ "
                      f"{mean[3] / _LN2:.3f} bits")
  progress.close()
  return seconds


def train_end_to_end(config: LayerwiseConfig, network: LayerStack, x, y, run: Run,
                     on_done: Callable[[int], Dict]) -> float:
  """Trains all layers and the last head of ``network`` together on cross-entropy (the
  baseline), for ``epochs`` epochs; ``on_done(step)`` gives the final record of the run's
  ``layers.jsonl``. Returns the training seconds (summed over resumes)."""
  c = config
  _check_data(x, y, c.batch_size)
  variables = [v for layer in network.layers for v in layer.trainable_variables]
  variables += network.heads[-1].trainable_variables
  optimizer = _optimizer(c, variables)
  run.track(**network.trackables(), optimizer=optimizer)
  resumed = run.start() or 0
  epochs = run.journal("epochs.jsonl")
  layers = run.journal("layers.jsonl")
  writer = run.writer()
  progress = Progress(c.epochs, "epoch", start=resumed)

  @tf.function
  def step(inputs, labels):
    with tf.GradientTape() as tape:
      t = inputs
      for layer in network.layers:
        t = layer(t, training=True)
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=labels, logits=network.heads[-1](t, training=True)))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  seconds = sum(r["seconds"] for r in epochs.records())
  for epoch in range(resumed + 1, c.epochs + 1):
    began = time.perf_counter()
    losses = []
    for _, batch in _batches(len(x), c.batch_size, c.seed, epoch):
      losses.append(float(step(tf.constant(x[batch]), tf.constant(y[batch]))))
      if not math.isfinite(losses[-1]):
        raise Diverged(f"end-to-end training, epoch {epoch}: the loss is not finite "
                       f"({losses[-1]}). Lower the learning rate.")
    elapsed = time.perf_counter() - began
    seconds += elapsed
    loss = float(np.mean(losses))
    tensorboard.write_scalars(writer, [("end_to_end/loss", loss, epoch)])
    epochs.append([{"step": epoch, "loss": loss, "seconds": elapsed}])
    if epoch == c.epochs:
      layers.append([dict(on_done(epoch), step=epoch)])
    writer.flush()
    crash_points.crash_point("layerwise_epoch")
    run.commit(epoch)
    progress.update(epoch, f"cross-entropy {loss:.4f}")
  progress.close()
  return seconds
