"""Training a critic on a variational MI bound: one XLA-compiled step, held-out stopping.

`CriticTrainer` fits a critic (`tfib.estimators.critics`) to maximise a bound
(`tfib.estimators.variational_bounds`) on paired samples (x_i, z_i) and reports the bound
on a held-out split, in nats.

* The whole training step — batch gather, optional channel noise, marginal pairs made by
  shuffling within the batch (a random cyclic derangement) or the all-pairs score matrix,
  the critic forward and backward pass, the Adam update — is one
  ``tf.function(jit_compile=True)``. The batch indices and the shuffle are drawn by numpy
  and passed in, so the XLA and the plain-graph step see the same pairs (the channel noise
  is drawn inside the step, and XLA's stream differs from the graph's).
* The samples are split once into a training part and a held-out part. Every
  ``eval_every`` steps the bound is evaluated on the held-out part (the mean over its full
  batches, each with fresh marginal shuffles). The running mean of the last ``num_last``
  evaluations is tracked; training stops when it has not improved for ``patience``
  evaluations (the critic has started to overfit, or has converged), or after
  ``max_steps``.
* The estimate is the best of those running means: the mean of ``num_last`` consecutive
  held-out evaluations — the last ones before held-out performance stopped improving, or
  simply the last ones if it never did — and its spread is their standard deviation.
  (Picking the best window biases the estimate up by about spread / sqrt(num_last) at
  most; overfitting would bias the last evaluations down by far more.)
* A non-finite training loss or held-out value stops training with `TrainingDiverged`,
  which says at which step and why; no number is reported for a diverged run.
"""
import dataclasses
import math
from typing import Callable, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfib.estimators import base
from tfib.estimators.critics import pair_scores, score_matrix
from tfib.estimators.variational_bounds import Bound

__all__ = ["CriticFit", "CriticTrainer", "TrainingDiverged", "check_pairs"]


class TrainingDiverged(FloatingPointError):
  """Training produced a non-finite loss or estimate; ``history`` holds what came before."""

  def __init__(self, message, step, history=()):
    super().__init__(message)
    self.step = step
    self.history = tuple(history)


@dataclasses.dataclass(frozen=True)
class CriticFit:
  """The outcome of `CriticTrainer.fit`, all values in nats."""

  bound: str
  estimate: float  # Mean of the best window of num_last consecutive held-out evaluations.
  spread: float  # Their standard deviation.
  last_values: Tuple[float, ...]  # That window.
  history: Tuple[Tuple[int, float], ...]  # (step, held-out value) per evaluation.
  train_history: Tuple[Tuple[int, float, float], ...]  # (step, mean bound, mean loss).
  steps: int
  stop_reason: str
  ceiling: Optional[float]  # The bound's own ceiling for this batch size (InfoNCE: log B).
  batch_size: int
  num_train: int
  num_held_out: int


def check_pairs(x, z, batch_size: int, held_out_fraction: float):
  """Validates paired samples; returns float32 arrays [N, Dx], [N, Dz] and the split sizes."""
  x = base.as_finite_activations(x, "x samples")
  z = base.as_finite_activations(z, "z samples")
  if x.shape[0] != z.shape[0]:
    raise ValueError(f"x and z must be paired samples: got {x.shape[0]} samples of x and "
                     f"{z.shape[0]} of z.")
  if not 0.0 < held_out_fraction < 1.0:
    raise ValueError(f"held_out_fraction must lie in (0, 1), got {held_out_fraction}.")
  if batch_size < 2:
    raise ValueError(f"batch_size must be >= 2 (marginal pairs come from within a batch), "
                     f"got {batch_size}.")
  num = x.shape[0]
  num_held = int(round(num * held_out_fraction))
  if num_held < batch_size or num - num_held < batch_size:
    needed = math.ceil(batch_size / min(held_out_fraction, 1.0 - held_out_fraction))
    raise ValueError(
        f"Too few samples: {num} samples give {num - num_held} for training and {num_held} "
        f"held out (held_out_fraction={held_out_fraction}), but each part needs at least "
        f"one batch of {batch_size}. Provide about {needed} samples or more, or lower "
        "batch_size.")
  return x.astype(np.float32), z.astype(np.float32), num - num_held, num_held


class CriticTrainer:
  """Trains ``critic`` on ``bound`` with Adam; see the module docstring.

  Args:
    bound: a `Bound` (its state, such as MINE's moving average, lives across steps).
    critic: a Keras model scoring pairs ``(x, z)`` → [B].
    batch_size: B.
    learning_rate: Adam's learning rate.
    x_noise_std, z_noise_std: σ of N(0, σ²) noise added to x (z) in every batch, fresh at
      each step; 0 for none.
    jit_compile: compile the step with XLA (False gives the same step as a plain graph).
    seed: seeds the split, the batch order, the shuffles and the noise.
  """

  def __init__(self, bound: Bound, critic, batch_size: int, learning_rate: float = 1e-3,
               x_noise_std: float = 0.0, z_noise_std: float = 0.0,
               jit_compile: bool = True, seed: int = 0):
    self.bound = bound
    self.critic = critic
    self.batch_size = int(batch_size)
    self.learning_rate = float(learning_rate)
    self.x_noise_std = float(x_noise_std)
    self.z_noise_std = float(z_noise_std)
    self.jit_compile = bool(jit_compile)
    self.seed = int(seed)
    self.optimizer = keras.optimizers.Adam(self.learning_rate)
    self._built = False
    self._rng = np.random.default_rng([self.seed, 1])
    self._train_fn = tf.function(self._train_step, jit_compile=self.jit_compile)
    self._eval_fn = tf.function(self._eval_step, jit_compile=self.jit_compile)

  # -- the compiled step -------------------------------------------------------------------

  def _batch(self, x_all, z_all, indices, seeds):
    x = tf.gather(x_all, indices)
    z = tf.gather(z_all, indices)
    if self.x_noise_std > 0:
      x = x + self.x_noise_std * tf.random.stateless_normal(tf.shape(x), seeds[0])
    if self.z_noise_std > 0:
      z = z + self.z_noise_std * tf.random.stateless_normal(tf.shape(z), seeds[1])
    return x, z

  def _scores(self, x, z, perm):
    batch = self.batch_size
    if self.bound.all_pairs:
      scores = score_matrix(self.critic, x, z)
      off_diagonal = tf.logical_not(tf.eye(batch, dtype=tf.bool))
      return tf.linalg.diag_part(scores), scores, off_diagonal
    # A uniformly random cyclic derangement: x_perm[k] is paired with z_perm[k + 1].
    x_marginal = tf.gather(x, perm)
    z_marginal = tf.gather(z, tf.roll(perm, shift=1, axis=0))
    scores = pair_scores(self.critic, tf.concat([x, x_marginal], 0),
                         tf.concat([z, z_marginal], 0))
    return scores[:batch], scores[batch:], None

  def _train_step(self, x_all, z_all, indices, perm, seed):
    seeds = tf.random.experimental.stateless_split(seed, 2)
    x, z = self._batch(x_all, z_all, indices, seeds)
    variables = self.critic.trainable_variables
    with tf.GradientTape() as tape:
      joint, marginal, mask = self._scores(x, z, perm)
      loss = self.bound.loss(joint, marginal, mask)
    value = self.bound.value(joint, marginal, mask)
    gradients = tape.gradient(loss, variables)
    self.optimizer.apply_gradients(zip(gradients, variables))
    return loss, value

  def _eval_step(self, x_all, z_all, indices, perm, seed):
    seeds = tf.random.experimental.stateless_split(seed, 2)
    x, z = self._batch(x_all, z_all, indices, seeds)
    joint, marginal, mask = self._scores(x, z, perm)
    return self.bound.value(joint, marginal, mask)

  # -- public API --------------------------------------------------------------------------

  def build(self, x_dim: int, z_dim: int):
    """Creates the critic's and optimizer's variables and checks the critic's output."""
    if self._built:
      return
    probe = min(self.batch_size, 4)
    x = tf.zeros([probe, x_dim])
    z = tf.zeros([probe, z_dim])
    scores = pair_scores(self.critic, x, z)
    if self.bound.all_pairs:
      scores = score_matrix(self.critic, x, z)
    if not self.critic.trainable_variables:
      raise ValueError("The critic has no trainable variables; nothing to train.")
    del scores
    self.optimizer.build(self.critic.trainable_variables)
    self._built = True

  def train_step(self, x_all, z_all, indices, step: int, perm=None):
    """One optimisation step on the batch ``x_all[indices]``; returns (loss, bound) nats.

    ``perm`` (a permutation of the batch positions) makes the shuffled marginal pairs; by
    default the trainer draws one.
    """
    if not self._built:
      self.build(np.shape(x_all)[1], np.shape(z_all)[1])
    if perm is None:
      perm = self._rng.permutation(self.batch_size)
    seed = np.array([self.seed, step], dtype=np.int32)
    return self._train_fn(x_all, z_all, np.asarray(indices, np.int32),
                          np.asarray(perm, np.int32), seed)

  def evaluate(self, x, z, seed: int) -> float:
    """The bound averaged over the full batches of (x, z), in nats."""
    rng = np.random.default_rng([self.seed, seed])
    values = []
    for k in range(x.shape[0] // self.batch_size):
      indices = np.arange(k * self.batch_size, (k + 1) * self.batch_size, dtype=np.int32)
      perm = rng.permutation(self.batch_size).astype(np.int32)
      values.append(self._eval_fn(x, z, indices, perm,
                                  np.array([self.seed + 1, seed * 1000 + k], np.int32)))
    return float(np.mean([float(v) for v in values]))

  def fit(self, x, z, max_steps: int = 2000, eval_every: int = 50, patience: int = 10,
          held_out_fraction: float = 0.2, num_last: int = 5, min_delta: float = 0.0,
          callback: Optional[Callable[[int, dict], None]] = None) -> CriticFit:
    """Trains on paired samples x [N, ...], z [N, ...] and returns the held-out estimate.

    ``callback(step, metrics)`` is called after each evaluation with the mean training
    loss and bound since the last evaluation and the held-out bound (nats).
    """
    for name, value in (("max_steps", max_steps), ("eval_every", eval_every),
                        ("patience", patience), ("num_last", num_last)):
      if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}.")
    x, z, num_train, num_held = check_pairs(x, z, self.batch_size, held_out_fraction)
    rng = np.random.default_rng(self.seed)
    order = rng.permutation(x.shape[0])
    held, train = order[:num_held], order[num_held:]
    x_train, z_train = tf.constant(x[train]), tf.constant(z[train])
    x_held, z_held = tf.constant(x[held]), tf.constant(z[held])
    self.build(x.shape[1], z.shape[1])
    self.bound.reset()

    history, train_history = [], []
    best, best_index, evals_since_best, step = -math.inf, 0, 0, 0
    losses, values = [], []
    stop_reason = f"reached max_steps={max_steps}"
    batches_per_epoch = num_train // self.batch_size
    while step < max_steps and not stop_reason.startswith("early"):
      perm = rng.permutation(num_train)
      for k in range(batches_per_epoch):
        if step >= max_steps:
          break
        indices = perm[k * self.batch_size:(k + 1) * self.batch_size]
        loss, value = self.train_step(x_train, z_train, indices, step)
        step += 1
        loss, value = float(loss), float(value)
        if not math.isfinite(loss):
          raise TrainingDiverged(
              f"{self.bound.name} training diverged at step {step}: the loss is {loss} "
              f"(training bound {value}). No estimate is reported; lower the learning rate "
              f"(now {self.learning_rate}), use a smaller critic, or use a lower-variance "
              "bound (infonce, smile).", step, history)
        losses.append(loss)
        values.append(value)
        if step % eval_every and step != max_steps:
          continue
        held_value = self.evaluate(x_held, z_held, seed=len(history))
        if not math.isfinite(held_value):
          raise TrainingDiverged(
              f"{self.bound.name} training diverged at step {step}: the held-out bound is "
              f"{held_value}. No estimate is reported.", step, history)
        history.append((step, held_value))
        train_history.append((step, float(np.mean(values)), float(np.mean(losses))))
        if callback is not None:
          callback(step, {"train_loss": train_history[-1][2],
                          "train_bound": train_history[-1][1], "held_out_bound": held_value})
        losses, values = [], []
        if len(history) < num_last:  # Windows start once num_last evaluations exist.
          best_index = len(history) - 1
          continue
        running = float(np.mean([v for _, v in history[-num_last:]]))
        if running > best + min_delta:
          best, best_index, evals_since_best = running, len(history) - 1, 0
        else:
          evals_since_best += 1
          if evals_since_best >= patience:
            stop_reason = (f"early stopping at step {step}: the held-out running mean has not "
                           f"improved in {patience} evaluations (best {best:.4f} nats at "
                           f"step {history[best_index][0]})")
            break

    last = tuple(value for _, value in history[max(0, best_index + 1 - num_last):
                                                 best_index + 1])
    return CriticFit(
        bound=self.bound.name, estimate=float(np.mean(last)),
        spread=float(np.std(last, ddof=1)) if len(last) > 1 else 0.0, last_values=last,
        history=tuple(history), train_history=tuple(train_history), steps=step,
        stop_reason=stop_reason, ceiling=self.bound.ceiling(self.batch_size),
        batch_size=self.batch_size, num_train=num_train, num_held_out=num_held)

