"""Optimizers and learning-rate schedules of `tfib-train`, expressed in epochs.

Mathematical details
--------------------
At optimizer step s (0-based) the epoch position is e = s / S, with S steps per epoch and E
epochs in all. With base rate lr, W warm-up epochs and the schedule's factor f(e):

    lr(s) = lr * min(1, (s + 1) / (W S)) * f(e)          (no warm-up factor when W = 0)

    constant  f(e) = 1
    cosine    f(e) = (1 + cos(pi * clip((e - W) / (E - W), 0, 1))) / 2      (Loshchilov &
              Hutter 2017, without restarts: the rate reaches 0 at the last step)
    step      f(e) = decay ** (number of decay epochs <= e)   (e.g. x0.1 at epochs 100, 150)

Weight decay is Keras's decoupled form, w <- w - lr(s) * wd * w, after each update.
"""
import math
from typing import Sequence

import keras
import tensorflow as tf

from tfib.training.train_config import LR_SCHEDULES, OPTIMIZERS

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "EpochLearningRate", "build_optimizer"]


@keras.saving.register_keras_serializable(package="tfib")
class EpochLearningRate(keras.optimizers.schedules.LearningRateSchedule):
  """The learning rate of the module docstring, a function of the optimizer step."""

  def __init__(self, learning_rate: float, schedule: str, steps_per_epoch: int, epochs: int,
               warmup_epochs: float = 0.0, decay_epochs: Sequence[float] = (),
               decay: float = 0.1):
    if schedule not in LR_SCHEDULES:
      raise ValueError(f"Unknown learning-rate schedule {schedule!r}; choose one of "
                       f"{LR_SCHEDULES}.")
    self.learning_rate = float(learning_rate)
    self.schedule = schedule
    self.steps_per_epoch = int(steps_per_epoch)
    self.epochs = int(epochs)
    self.warmup_epochs = float(warmup_epochs)
    self.decay_epochs = [float(e) for e in decay_epochs]
    self.decay = float(decay)

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    epoch = step / float(self.steps_per_epoch)
    rate = tf.constant(self.learning_rate, tf.float32)
    if self.warmup_epochs > 0:
      rate *= tf.minimum(1.0, (step + 1.0) / (self.warmup_epochs * self.steps_per_epoch))
    if self.schedule == "cosine":
      span = max(self.epochs - self.warmup_epochs, 1e-9)
      progress = tf.clip_by_value((epoch - self.warmup_epochs) / span, 0.0, 1.0)
      rate *= 0.5 * (1.0 + tf.cos(math.pi * progress))
    elif self.schedule == "step" and self.decay_epochs:
      passed = tf.reduce_sum(tf.cast(epoch >= tf.constant(self.decay_epochs), tf.float32))
      rate *= tf.pow(self.decay, passed)
    return rate

  def get_config(self):
    return {"learning_rate": self.learning_rate, "schedule": self.schedule,
            "steps_per_epoch": self.steps_per_epoch, "epochs": self.epochs,
            "warmup_epochs": self.warmup_epochs, "decay_epochs": list(self.decay_epochs),
            "decay": self.decay}


def build_optimizer(name: str, learning_rate, momentum: float = 0.9,
                    weight_decay: float = 0.0) -> keras.optimizers.Optimizer:
  """SGD with (heavy-ball) momentum or Adam, with decoupled weight decay if > 0."""
  decay = float(weight_decay) if weight_decay > 0 else None
  if name == "sgd":
    return keras.optimizers.SGD(learning_rate, momentum=momentum, weight_decay=decay)
  if name == "adam":
    return keras.optimizers.Adam(learning_rate, weight_decay=decay)
  raise ValueError(f"Unknown optimizer {name!r}; choose one of {OPTIMIZERS}.")
