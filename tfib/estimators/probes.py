"""I(H;Y) from a classifier trained on frozen representations: linear and small MLP probes.

A probe q(y | h) trained on the training split gives, on held-out pairs, the variational
(Barber & Agakov 2003) lower bound

    I(H;Y) = H(Y) − H(Y|H) ≥ H(Y) − E[−log2 q(Y | H)]          (bits),

the held-out cross-entropy standing for H(Y|H): any q gives a lower bound in expectation,
a better probe a tighter one. It never exceeds H(Y) (a cross-entropy is ≥ 0); a probe that
learned nothing, or overfits, gives a value at or below 0. The standard error is that of
the mean of the per-example terms log2 q(y_i | h_i) over the held-out set. H(Y) is the
plug-in entropy of the training labels (the same labels' distribution the probe learns).

Probes read h flattened; a representation of more than ``max_features`` values is first
average-pooled over space (a [h, w, c] map to [h', w', c] with h'·w'·c ≤ max_features),
which the result states ("features").
"""
import dataclasses
import math
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfib.data import epoch_order
from tfib.estimators.base import as_finite_activations, as_labels, label_entropy

__all__ = ["ProbeEstimate", "probe_information", "probe_features"]


@dataclasses.dataclass(frozen=True)
class ProbeEstimate:
  i_hy: float  # bits
  standard_error: float  # bits
  h_y: float  # bits
  held_out_cross_entropy: float  # bits
  kind: str  # "linear" or "mlp"
  features: str


def probe_features(h: np.ndarray, max_features: int = 4096):
  """(features [N, F], how they were made) of representations h [N, ...]."""
  h = np.asarray(h, np.float32)
  if h[0].size <= max_features or h.ndim != 4:
    return h.reshape(len(h), -1), f"h flattened ({h[0].size} values)"
  height, width, channels = h.shape[1:]
  factor = 1
  while (height // factor) * (width // factor) * channels > max_features and factor < height:
    factor *= 2
  rows, cols = height // factor, width // factor
  pooled = h[:, :rows * factor, :cols * factor].reshape(
      len(h), rows, factor, cols, factor, channels).mean(axis=(2, 4))
  return pooled.reshape(len(h), -1), (f"h average-pooled {factor}x{factor} to "
                                      f"{rows}x{cols}x{channels}")


def probe_information(h_train, y_train, h_test, y_test, hidden_units: Sequence[int] = (),
                      max_epochs: int = 200, batch_size: int = 64, patience: int = 5,
                      learning_rate: float = 1e-3, seed: int = 0,
                      max_features: int = 4096) -> ProbeEstimate:
  """The held-out lower bound on I(H;Y) of a probe (no ``hidden_units``: linear).

  Trained with Adam on mini-batches of ``batch_size`` of 90% of the training pairs (each
  epoch one compiled pass in `epoch_order.permutation` order), stopped when the
  cross-entropy on the other 10% has not improved for ``patience`` epochs (the best
  weights are kept). An epoch costs what one full-batch step costs and makes N / B updates.
  """
  as_finite_activations(h_train, "training representations")  # Checks; keeps the shape.
  as_finite_activations(h_test, "held-out representations")
  h_train, h_test = np.asarray(h_train), np.asarray(h_test)
  classes = np.unique(np.asarray(y_train))
  y_train = as_labels(y_train, len(h_train))
  if not set(np.unique(np.asarray(y_test))) <= set(classes):
    raise ValueError("The held-out labels hold classes the training labels do not.")
  y_test = np.searchsorted(classes, np.asarray(y_test).reshape(-1)).astype(np.int32)
  if len(y_test) != len(h_test):
    raise ValueError(f"label count mismatch: {len(y_test)} held-out labels for {len(h_test)} "
                     "representations.")
  train, features = probe_features(h_train, max_features)
  test, _ = probe_features(h_test, max_features)
  mean, scale = train.mean(axis=0), train.std(axis=0) + 1e-6  # Fitted on training only.
  train, test = (train - mean) / scale, (test - mean) / scale
  order = np.random.default_rng(seed).permutation(len(train))
  fit, check = order[len(order) // 10:], order[:len(order) // 10]

  keras.utils.set_random_seed(seed)
  model = keras.Sequential([keras.Input((train.shape[1],)),
                            *[keras.layers.Dense(units, activation="relu")
                              for units in hidden_units],
                            keras.layers.Dense(len(classes))])
  optimizer = keras.optimizers.Adam(learning_rate)
  x_fit, y_fit = tf.constant(train[fit]), tf.constant(y_train[fit])
  x_check, y_check = tf.constant(train[check]), tf.constant(y_train[check])
  loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  batch_size = min(int(batch_size), len(fit))
  per_epoch = len(fit) // batch_size

  @tf.function
  def train_epoch(batches):
    for i in tf.range(tf.shape(batches)[0]):
      with tf.GradientTape() as tape:
        value = loss(tf.gather(y_fit, batches[i]),
                     model(tf.gather(x_fit, batches[i]), training=True))
      optimizer.apply_gradients(zip(tape.gradient(value, model.trainable_variables),
                                    model.trainable_variables))
    return loss(y_check, model(x_check, training=False))

  best, best_weights, since = math.inf, model.get_weights(), 0
  for epoch in range(1, max_epochs + 1):
    order = epoch_order.permutation(len(fit), seed, epoch)
    checked = float(train_epoch(tf.constant(
        order[:per_epoch * batch_size].reshape(per_epoch, batch_size), tf.int32)))
    if checked < best - 1e-4:
      best, best_weights, since = checked, model.get_weights(), 0
    else:
      since += 1
      if since >= patience:
        break
  model.set_weights(best_weights)
  logits = model(tf.constant(test), training=False).numpy().astype(np.float64)
  logits -= logits.max(axis=1, keepdims=True)
  log_q = logits[np.arange(len(y_test)), y_test] - np.log(np.exp(logits).sum(axis=1))
  terms = log_q / math.log(2.0)
  h_y = label_entropy(y_train)
  cross_entropy = float(-terms.mean())
  return ProbeEstimate(i_hy=h_y - cross_entropy,
                       standard_error=float(terms.std(ddof=1) / math.sqrt(len(terms))),
                       h_y=h_y, held_out_cross_entropy=cross_entropy,
                       kind="mlp" if hidden_units else "linear", features=features)
