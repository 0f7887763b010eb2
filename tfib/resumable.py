"""Resuming model.fit where a killed run stopped, and epoch scalars written exactly once.

A run directory holds ``checkpoint/state.json`` (the number of completed epochs) and, for
that epoch, the model weights and the optimizer variables. The state file is replaced
last, atomically, so it always names a complete checkpoint; older files are removed after.
Epochs trained after the last checkpoint are trained again on resume, and whatever they
had logged already is not logged twice (`tfib.summaries.ExactlyOnceWriter`, results file).
"""
import glob
import json
import os
from typing import Optional

import keras
import numpy as np

from tfib import summaries

_STATE = "state.json"


def _checkpoint_dir(run_dir: str) -> str:
  return os.path.join(run_dir, "checkpoint")


def completed_epochs(run_dir: str) -> int:
  """Epochs completed by the last checkpoint of ``run_dir`` (0 if there is none)."""
  path = os.path.join(_checkpoint_dir(run_dir), _STATE)
  if not os.path.exists(path):
    return 0
  with open(path) as stream:
    return int(json.load(stream)["epoch"])


def restore(model: keras.Model, run_dir: str) -> int:
  """Loads the last checkpoint of ``run_dir`` into ``model`` (compiled); returns its epoch."""
  epoch = completed_epochs(run_dir)
  if epoch == 0:
    return 0
  directory = _checkpoint_dir(run_dir)
  try:
    model.load_weights(os.path.join(directory, f"weights-{epoch}.weights.h5"))
    saved = np.load(os.path.join(directory, f"optimizer-{epoch}.npz"))
  except (OSError, ValueError) as error:
    raise RuntimeError(f"The checkpoint of epoch {epoch} in {directory} is unreadable "
                       f"({error}); delete {directory} to start the run afresh.") from error
  model.optimizer.build(model.trainable_variables)
  variables = model.optimizer.variables
  if len(saved.files) != len(variables):
    raise RuntimeError(f"The checkpoint in {directory} was made by a different optimizer.")
  for index, variable in enumerate(variables):
    variable.assign(saved[f"v{index}"])
  return epoch


class EpochCheckpoint(keras.callbacks.Callback):
  """Saves weights and optimizer state every ``every`` epochs and at the end of training."""

  def __init__(self, run_dir: str, every: int = 50):
    super().__init__()
    if every < 1:
      raise ValueError(f"Checkpoint every {every} epochs? Need at least 1.")
    self.directory = _checkpoint_dir(run_dir)
    self.every = every

  def on_epoch_end(self, epoch, logs=None):
    done = epoch + 1
    if done % self.every == 0 or done == self.params.get("epochs"):
      self.save(done)

  def save(self, epoch: int):
    os.makedirs(self.directory, exist_ok=True)
    self.model.save_weights(os.path.join(self.directory, f"weights-{epoch}.weights.h5"))
    variables = {f"v{i}": v.numpy() for i, v in enumerate(self.model.optimizer.variables)}
    np.savez(os.path.join(self.directory, f"optimizer-{epoch}.npz"), **variables)
    state = os.path.join(self.directory, _STATE)
    with open(state + ".tmp", "w") as stream:
      json.dump({"epoch": epoch}, stream)
      stream.flush()
      os.fsync(stream.fileno())
    os.replace(state + ".tmp", state)
    for path in glob.glob(os.path.join(self.directory, "*-*.*")):
      if not os.path.basename(path).split(".")[0].endswith(f"-{epoch}"):
        os.remove(path)


class EpochScalars(keras.callbacks.Callback):
  """Writes the training logs (loss, metrics) at each epoch's end, each point once.

  ``writer``: an `ExactlyOnceWriter` shared with other callbacks on the same ``logdir``
  (default: one of its own, opened when training begins).
  """

  def __init__(self, logdir: str, writer: Optional[summaries.ExactlyOnceWriter] = None):
    super().__init__()
    self.logdir = logdir
    self._shared_writer = writer
    self._writer = None

  def on_train_begin(self, logs=None):
    self._writer = self._shared_writer or summaries.ExactlyOnceWriter(self.logdir)

  def on_epoch_end(self, epoch, logs=None):
    self._writer.scalars([(f"training/{name}", float(value), epoch + 1)
                          for name, value in (logs or {}).items()])
    self._writer.flush()
