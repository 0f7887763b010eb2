"""A training run's directory: the networks at the scheduled epochs, a manifest, resume state.

Layout::

    <run_dir>/manifest.json                 what the run is and what it has saved (below)
    <run_dir>/checkpoints/epoch_0005.keras  the network after 5 epochs (full .keras model)
    <run_dir>/resume/ckpt-5.*               tf.train.Checkpoint of the latest epochs: network,
                                            optimizer (with its step), epoch counter
    <run_dir>/tensorboard/{train,eval}/     TensorBoard event files

The manifest (JSON) holds ``format``, ``config`` (the settings that define the run: a run
directory refuses to be resumed by a different configuration), ``dataset`` and ``model``
facts, ``save_epochs``, ``last_epoch`` (the last completed epoch, or null), ``finished``,
``history`` (metrics of every epoch) and ``checkpoints`` (epoch, path relative to the run
directory, SHA-256 and metrics of each saved network).

Every file is written atomically (a temporary file in the same directory, then
``os.replace``), so a run killed at any point leaves each file either old or new. Later
programs find "the network at epoch k" with `load_checkpoint(run_dir, k)`.
"""
import datetime
import hashlib
import json
import os
import shutil
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "ConfigMismatchError", "CorruptCheckpointError", "RunDirectory", "RunDirectoryError",
    "atomic_write_json", "checkpoint_path", "load_checkpoint", "read_manifest", "saved_epochs",
]

FORMAT = "tfib-train-run/1"
MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints"
RESUME = "resume"
TENSORBOARD = "tensorboard"
_OWN_ENTRIES = {MANIFEST, CHECKPOINTS, RESUME, TENSORBOARD}


class RunDirectoryError(RuntimeError):
  """The run directory cannot be used as asked."""


class ConfigMismatchError(RunDirectoryError):
  """The run directory was made by a different configuration."""

  def __init__(self, message: str, differences: Mapping[str, Any]):
    super().__init__(message)
    self.differences = dict(differences)


class CorruptCheckpointError(RunDirectoryError):
  """A saved network or resume state cannot be read."""


def _fsync_directory(directory: str):
  try:
    descriptor = os.open(directory, os.O_RDONLY)
  except OSError:
    return
  try:
    os.fsync(descriptor)
  except OSError:
    pass
  finally:
    os.close(descriptor)


def atomic_write_bytes(path: str, data: bytes):
  """Writes ``data`` to ``path`` through a temporary file and ``os.replace``."""
  directory = os.path.dirname(os.path.abspath(path))
  temporary = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
  with open(temporary, "wb") as stream:
    stream.write(data)
    stream.flush()
    os.fsync(stream.fileno())
  os.replace(temporary, path)
  _fsync_directory(directory)


def atomic_write_json(path: str, value):
  atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=False) + "\n").encode())


def sha256_of(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as stream:
    for chunk in iter(lambda: stream.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def _normalise(value):
  """JSON round trip, so tuples and lists (and int/float spellings) compare equal."""
  return json.loads(json.dumps(value))


class RunDirectory:
  """Files of one run; see the module docstring for the layout."""

  def __init__(self, path: str):
    self.path = os.path.abspath(os.fspath(path))
    self.manifest_path = os.path.join(self.path, MANIFEST)
    self.checkpoints_dir = os.path.join(self.path, CHECKPOINTS)
    self.resume_dir = os.path.join(self.path, RESUME)
    self.logdir = os.path.join(self.path, TENSORBOARD)

  # --- manifest -----------------------------------------------------------------------

  def has_manifest(self) -> bool:
    return os.path.isfile(self.manifest_path)

  def read_manifest(self) -> Dict[str, Any]:
    try:
      with open(self.manifest_path) as stream:
        manifest = json.load(stream)
    except FileNotFoundError:
      raise RunDirectoryError(f"{self.path} is not a tfib-train run directory: it has no "
                              f"{MANIFEST}.") from None
    except (OSError, ValueError) as error:
      raise RunDirectoryError(f"Cannot read {self.manifest_path}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
      raise RunDirectoryError(f"{self.manifest_path} is not a tfib-train manifest "
                              f"(format {FORMAT!r}).")
    return manifest

  def write_manifest(self, manifest: Mapping[str, Any]):
    atomic_write_json(self.manifest_path, manifest)

  def new_manifest(self, config: Mapping[str, Any], **facts) -> Dict[str, Any]:
    manifest = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": _normalise(dict(config)),
    }
    manifest.update(_normalise(facts))
    manifest.update(last_epoch=None, finished=False, history=[], checkpoints=[],
                    config_changes=[])
    return manifest

  @staticmethod
  def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    """{key: (old value, new value)} for the keys whose values differ."""
    old, new = _normalise(dict(old)), _normalise(dict(new))
    return {key: (old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key)}

  def check_config(self, manifest: Dict[str, Any], config: Mapping[str, Any],
                   force: bool = False) -> Dict[str, Any]:
    """Refuses a different configuration unless ``force``; then records the change."""
    differences = self.config_differences(manifest["config"], config)
    if not differences:
      return manifest
    listing = "; ".join(f"{key}: {old!r} in the run, {new!r} now"
                        for key, (old, new) in differences.items())
    if not force:
      raise ConfigMismatchError(
          f"{self.path} holds a run with a different configuration ({listing}). Use another "
          "run directory, or --overwrite to delete this run and start again, or "
          "--force_resume to continue it with the new settings.", differences)
    manifest["config_changes"].append({"after_epoch": manifest.get("last_epoch"),
                                       "previous": manifest["config"]})
    manifest["config"] = _normalise(dict(config))
    return manifest

  # --- directory state ----------------------------------------------------------------

  def is_empty_or_own(self) -> bool:
    """True if the directory is missing, empty, or holds only entries a run writes."""
    if not os.path.exists(self.path):
      return True
    return set(os.listdir(self.path)) <= _OWN_ENTRIES

  def clear(self):
    """Deletes the run (only if the directory is a run directory or holds nothing else)."""
    if not os.path.exists(self.path):
      return
    if not self.has_manifest() and not self.is_empty_or_own():
      raise RunDirectoryError(f"{self.path} is not a tfib-train run directory (no {MANIFEST})"
                              "; refusing to delete it.")
    if self.has_manifest():
      self.read_manifest()  # Raises unless it is a tfib-train manifest.
    for entry in os.listdir(self.path):
      target = os.path.join(self.path, entry)
      if entry in _OWN_ENTRIES and os.path.isdir(target):
        shutil.rmtree(target)
      elif entry in _OWN_ENTRIES or entry.startswith(".tmp-"):
        os.remove(target)

  # --- saved networks -----------------------------------------------------------------

  @staticmethod
  def relative_weights_path(epoch: int) -> str:
    return os.path.join(CHECKPOINTS, f"epoch_{epoch:04d}.keras")

  def save_network(self, model, epoch: int) -> Dict[str, Any]:
    """Saves ``model`` as the network at ``epoch``; returns its checkpoint entry."""
    os.makedirs(self.checkpoints_dir, exist_ok=True)
    relative = self.relative_weights_path(epoch)
    final = os.path.join(self.path, relative)
    # Keras wants the .keras suffix: the temporary name keeps it.
    temporary = os.path.join(self.checkpoints_dir, f".tmp-{os.getpid()}-epoch_{epoch:04d}.keras")
    model.save(temporary)
    with open(temporary, "rb") as stream:
      os.fsync(stream.fileno())
    digest = sha256_of(temporary)
    os.replace(temporary, final)
    _fsync_directory(self.checkpoints_dir)
    return {"epoch": int(epoch), "path": relative, "sha256": digest}

  @staticmethod
  def record_epoch(manifest: Dict[str, Any], epoch: int, metrics: Mapping[str, float],
                   checkpoint: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Adds (or replaces) the manifest entries of ``epoch``; marks it the last epoch."""
    metrics = _normalise(dict(metrics))
    manifest["history"] = [e for e in manifest["history"] if e["epoch"] != epoch]
    manifest["history"].append({"epoch": int(epoch), "metrics": metrics})
    if checkpoint is not None:
      manifest["checkpoints"] = [e for e in manifest["checkpoints"] if e["epoch"] != epoch]
      manifest["checkpoints"].append(dict(checkpoint, metrics=metrics))
    manifest["last_epoch"] = int(epoch)
    return manifest

  def rollback(self, manifest: Dict[str, Any], epoch: Optional[int]) -> Dict[str, Any]:
    """Forgets everything after ``epoch`` (None: everything) in files and manifest."""
    limit = -1 if epoch is None else int(epoch)
    manifest["history"] = [e for e in manifest["history"] if e["epoch"] <= limit]
    manifest["checkpoints"] = [e for e in manifest["checkpoints"] if e["epoch"] <= limit]
    manifest["last_epoch"] = epoch
    manifest["finished"] = False
    kept = {os.path.normpath(e["path"]) for e in manifest["checkpoints"]}
    if os.path.isdir(self.checkpoints_dir):
      for name in os.listdir(self.checkpoints_dir):
        relative = os.path.normpath(os.path.join(CHECKPOINTS, name))
        if name.startswith(".tmp-") or (name.endswith(".keras") and relative not in kept):
          os.remove(os.path.join(self.checkpoints_dir, name))
    for name in os.listdir(self.path) if os.path.isdir(self.path) else ():
      if name.startswith(".tmp-"):
        os.remove(os.path.join(self.path, name))
    if os.path.isdir(self.resume_dir):  # Half-written TensorFlow checkpoints of a killed save.
      for name in os.listdir(self.resume_dir):
        if "_temp" in name:
          target = os.path.join(self.resume_dir, name)
          if os.path.isdir(target):
            shutil.rmtree(target)
          else:
            os.remove(target)
    if os.path.isdir(self.logdir):
      from tfib.training import event_files  # pylint: disable=g-import-not-at-top  (imports TF)
      event_files.truncate_events(self.logdir, limit)
    return manifest


# --- reading a run from other programs ----------------------------------------------------


def read_manifest(run_dir: str) -> Dict[str, Any]:
  """The manifest of the run in ``run_dir`` (see the module docstring)."""
  return RunDirectory(run_dir).read_manifest()


def saved_epochs(run_dir: str) -> List[int]:
  """The epochs whose network ``run_dir`` holds, ascending."""
  return sorted(e["epoch"] for e in read_manifest(run_dir)["checkpoints"])


def checkpoint_path(run_dir: str, epoch: int) -> str:
  """Path of the ``.keras`` file of the network after ``epoch`` epochs."""
  run = RunDirectory(run_dir)
  entries = {e["epoch"]: e for e in run.read_manifest()["checkpoints"]}
  if epoch not in entries:
    raise KeyError(f"{run.path} has no network saved at epoch {epoch}; saved epochs: "
                   f"{sorted(entries) or 'none yet'}.")
  return os.path.join(run.path, entries[epoch]["path"])


def load_checkpoint(run_dir: str, epoch: int, verify: bool = True):
  """The Keras model of the run in ``run_dir`` as it was after ``epoch`` epochs.

  Epoch 0 is the initialisation. The model is the full network (a classifier returning
  logits, or an autoencoder returning reconstructions) with its `Capture` layers ``h1``..
  ``h4``: ``tfib.layers.activation_model(model)`` gives their activations. With ``verify``
  the file's SHA-256 is checked against the manifest first. Raises KeyError for an epoch
  that was not saved and CorruptCheckpointError for a file that cannot be read (the other
  epochs stay loadable).
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tfib.layers  # pylint: disable=g-import-not-at-top,unused-import  (registers Capture)

  run = RunDirectory(run_dir)
  path = checkpoint_path(run_dir, epoch)
  if not os.path.isfile(path):
    raise CorruptCheckpointError(f"The network at epoch {epoch} is missing: {path}.")
  if verify:
    expected = {e["epoch"]: e for e in run.read_manifest()["checkpoints"]}[epoch].get("sha256")
    if expected and sha256_of(path) != expected:
      raise CorruptCheckpointError(
          f"The network at epoch {epoch} ({path}) is corrupt: its SHA-256 does not match the "
          f"manifest. Other saved epochs: {saved_epochs(run_dir)}.")
  try:
    return keras.saving.load_model(path, compile=False)
  except Exception as error:  # pylint: disable=broad-except  (zip, h5, JSON, Keras errors)
    raise CorruptCheckpointError(
        f"The network at epoch {epoch} ({path}) cannot be read: {type(error).__name__}: "
        f"{error}") from error
