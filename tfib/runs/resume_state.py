"""The resume state of a run: a `tf.train.Checkpoint` of what a replay needs, at a step.

It holds any trackables the program names (network, optimizer, Polyak copy, step and data
counters, string variables with a history), written at a step k: "everything of steps <= k
is done". `ResumeState.restore` loads the newest state that can be read. A state that
cannot be read (a disk error, a file cut short) stops the run with an error naming the
previous good state, or, with ``fall_back``, is deleted with a warning and the previous one
is used; the run then rolls back to that step and replays from there.

States are `tf.train.CheckpointManager` checkpoints named by their step (``ckpt-<k>``); the
last ``keep`` are kept. TensorFlow writes a checkpoint to temporary files and renames them,
and writes the file naming the latest checkpoint last, so a kill during a save leaves the
previous state in force.
"""
import os
import re
from typing import List, Mapping, Optional, Tuple

from absl import logging
import tensorflow as tf

from tfib.runs.errors import CorruptStateError, RunError

__all__ = ["ResumeState"]

_STEP = re.compile(r"ckpt-(\d+)$")


def _step_of(path: str) -> int:
  match = _STEP.search(path)
  if not match:
    raise CorruptStateError(f"{path} is not a resume state of tfib (expected ckpt-<step>).")
  return int(match.group(1))


def _reason(error: Exception) -> str:
  text = str(error).strip().splitlines()
  return f"{type(error).__name__}: {text[0] if text else ''}"


class ResumeState:
  """Saves and restores ``trackables`` in ``directory``.

  Args:
    directory: where the states live.
    trackables: name → tf.Variable, Keras model or optimizer, tf.train.Checkpoint, ...
    keep: how many states to keep.
    writable: False for a worker that is not the chief: it reads the chief's states, and
      writes its own (collective saves need every worker) into a scratch directory that
      nobody reads.
  """

  def __init__(self, directory: str, trackables: Mapping[str, object], keep: int = 2,
               writable: bool = True, scratch: Optional[str] = None):
    if not trackables:
      raise ValueError("A resume state needs at least one trackable to hold.")
    self.directory = directory
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self.keep = int(keep)
    self.writable = writable
    self._manager = tf.train.CheckpointManager(self.checkpoint, directory, self.keep)
    self._writer = self._manager
    if not writable:
      self._writer = tf.train.CheckpointManager(self.checkpoint, scratch or os.path.join(
          directory, ".scratch"), 1)

  def steps(self) -> List[int]:
    """The steps of the states on disk, oldest first."""
    return [_step_of(path) for path in self._manager.checkpoints]

  def restore(self, fall_back: bool = False) -> Tuple[Optional[int], List[int]]:
    """Loads the newest readable state; returns its step (None: no state) and the steps of
    the newer, unreadable states skipped to reach it (only with ``fall_back``)."""
    candidates = list(reversed(self._manager.checkpoints))
    for index, path in enumerate(candidates):
      try:
        self.checkpoint.restore(path).assert_existing_objects_matched()
      except Exception as error:  # pylint: disable=broad-except  (DataLoss, NotFound, ...)
        earlier = candidates[index + 1:]
        if not fall_back:
          hint = (f"the previous state {os.path.basename(earlier[0])} is still there: rerun "
                  "with --on_corrupt_checkpoint=fall_back to continue from it, or"
                  if earlier else "there is no earlier state:")
          raise CorruptStateError(
              f"The resume state {path} cannot be read ({_reason(error)}); {hint} "
              "--overwrite to start the run again.") from error
        logging.warning("The resume state %s cannot be read (%s); falling back to the "
                        "previous one.", path, _reason(error))
        continue
      skipped = [_step_of(p) for p in candidates[:index]]
      if skipped and self.writable:
        self._forget(candidates[:index], path)
      return _step_of(path), skipped
    if candidates:
      raise CorruptStateError(f"No resume state in {self.directory} can be read; "
                              "--overwrite to start the run again.")
    return None, []

  def _forget(self, unreadable: List[str], good: str):
    """Deletes unreadable states and makes ``good`` the latest again."""
    for path in unreadable:
      for name in tf.io.gfile.glob(path + ".*"):
        tf.io.gfile.remove(name)
    self.save(_step_of(good))

  def save(self, step: int) -> str:
    """Writes the state of ``step``; raises RunError (the previous state intact) if it
    cannot be written, for instance on a full disk."""
    previous = self._manager.latest_checkpoint
    try:
      return self._writer.save(checkpoint_number=int(step))
    except (OSError, tf.errors.OpError) as error:
      self.remove_temporaries()
      kept = (f"the previous state ({os.path.basename(previous)}) is intact"
              if previous else "no earlier state exists")
      raise RunError(
          f"Could not write the resume state of step {step} into {self.directory} "
          f"({_reason(error)}); {kept}. Free space (or fix the file system) and run the "
          "same command again to continue.") from error

  def remove_temporaries(self):
    """Deletes what a killed or failed save left behind."""
    for directory in {self.directory, self._writer.directory}:
      if not tf.io.gfile.isdir(directory):
        continue
      for name in tf.io.gfile.listdir(directory):
        if "_temp" in name:
          target = os.path.join(directory, name)
          if tf.io.gfile.isdir(target):
            tf.io.gfile.rmtree(target)
          else:
            tf.io.gfile.remove(target)

  def close(self):
    """Removes a non-chief worker's scratch states."""
    if not self.writable and tf.io.gfile.exists(self._writer.directory):
      tf.io.gfile.rmtree(self._writer.directory)
