"""The run mechanism inside ``model.fit``: a resume-state callback and the training curves.

    run = tfib.runs.Run("runs/mine", program="model.fit")
    checkpoint = tfib.callbacks.RunCheckpoint(run, every=50)
    plane = tfib.callbacks.InformationPlane(..., run=run)
    model.fit(x, y, epochs=1000, callbacks=[plane, checkpoint])

Step k of a ``model.fit`` run is "k epochs done": summaries of epoch k's training and the
information plane of the network after k epochs carry step k. `RunCheckpoint` commits the
state of step k when epoch k + 1 begins (and the last one when training ends), that is after
every callback has finished with step k, whatever the order of the callbacks. Killed and
started again, it restores the network and the optimizer of the last committed step, rolls
back whatever was written after it and makes ``fit`` continue there.

For the resumed run to *be* the uninterrupted one, the data order must not depend on the
process: feed ``fit`` with `tfib.data.epoch_order.fit_dataset`, whose order is a function
of (seed, epoch), and call `RunCheckpoint.restore` before building it, to know where to
start (Keras' ``shuffle=True`` restarts its random order with the process).
"""
from typing import Callable, Optional

import keras

from tfib.runs import fingerprints
from tfib.runs import tensorboard
from tfib.runs.progress import Progress
from tfib.runs.run import Run

__all__ = ["FitProgress", "RunCheckpoint", "TrainingScalars"]


class RunCheckpoint(keras.callbacks.Callback):
  """Keeps the resume state of a ``model.fit`` run (see the module docstring).

  Args:
    run: the `tfib.runs.Run` (shared with the other callbacks that write into it).
    every: commit the state every ``every`` epochs (and at the end of training).
  """

  def __init__(self, run: Run, every: int = 1):
    super().__init__()
    if int(every) < 1:
      raise ValueError(f"Checkpoint every {every} epochs? Need at least 1.")
    self.run = run
    self.every = int(every)
    self._committed = None
    self._completed = None

  def restore(self, model: keras.Model) -> int:
    """Starts the run with ``model`` (compiled) and its optimizer as the resume state;
    returns the epoch to continue from (0 for a new run). Idempotent."""
    if not self.run._started:  # pylint: disable=protected-access
      if model.optimizer is None:
        raise ValueError("Compile the model before restoring it: the resume state holds its "
                         "optimizer too.")
      if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
      self.run.declare("model", fingerprints.model_fingerprint(model))
      self.run.track(model=model, optimizer=model.optimizer)
    step = self.run.start()
    self._committed = self._completed = step
    return 0 if step is None else int(step)

  def set_model(self, model):
    super().set_model(model)
    self.restore(model)

  def on_train_begin(self, logs=None):
    initial = self.restore(self.model)
    self.model._initial_epoch = initial or None  # pylint: disable=protected-access  (as BackupAndRestore)

  def on_epoch_begin(self, epoch, logs=None):
    self._completed = epoch
    if epoch % self.every == 0:
      self._commit(epoch)

  def on_epoch_end(self, epoch, logs=None):
    self._completed = epoch + 1

  def on_train_end(self, logs=None):
    if self._completed is not None:
      self._commit(self._completed)

  def _commit(self, step: int):
    if step != self._committed:
      self.run.commit(step)
      self._committed = step


class TrainingScalars(keras.callbacks.Callback):
  """Writes the training logs (loss, metrics) of every epoch as ``training/<name>``, at step
  = epochs done, into the run's event files."""

  def __init__(self, run: Run, subdir: str = ""):
    super().__init__()
    self.run = run
    self.subdir = subdir

  def on_train_begin(self, logs=None):
    self.run.start()

  def on_epoch_end(self, epoch, logs=None):
    tensorboard.write_scalars(self.run.writer(self.subdir), [
        (f"training/{name}", float(value), epoch + 1) for name, value in (logs or {}).items()])

  def on_train_end(self, logs=None):
    self.run.writer(self.subdir).flush()



class FitProgress(keras.callbacks.Callback):
  """Epochs done of the total, time per epoch, time left and the latest numbers: the
  epoch's logs and ``details()`` (e.g. the latest information-plane record), one live line
  on a terminal or one line per update in a log (`tfib.runs.progress.Progress`)."""

  def __init__(self, details: Optional[Callable[[], str]] = None, stream=None,
               every_seconds: float = 10.0):
    super().__init__()
    self.details = details
    self.stream = stream
    self.every_seconds = every_seconds
    self._progress = None

  def on_epoch_begin(self, epoch, logs=None):
    if self._progress is None:  # The first epoch of this process: a resumed run starts late.
      self._progress = Progress(self.params["epochs"], "epoch", start=epoch,
                                stream=self.stream, every_seconds=self.every_seconds)

  def on_epoch_end(self, epoch, logs=None):
    numbers = "  ".join(f"{name} {value:.4g}" for name, value in (logs or {}).items())
    extra = self.details() if self.details else ""
    self._progress.update(epoch + 1, "  ".join(part for part in (numbers, extra) if part))

  def on_train_end(self, logs=None):
    if self._progress is not None:
      self._progress.close()
