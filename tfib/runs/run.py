"""One run directory: what it holds, where it resumes, and the roll back that makes a resumed
run the uninterrupted run.

Every tfib program (and a user's own ``model.fit`` through `tfib.callbacks.RunCheckpoint`)
writes its outputs through a `Run`::

    run = Run("runs/x", program="tfib-train", overwrite=False, force_resume=False)
    run.declare("train", config)              # what defines the run: refused if it differs
    run.track(model=model, optimizer=opt)     # what a replay needs (a tf.train.Checkpoint)
    step = run.start()                        # None: a new run; k: resumed after step k
    ...                                       # write step k+1: events, journals, networks
    run.commit(k + 1)                         # everything of steps <= k+1 is done

The protocol: outputs of step k (TensorBoard summaries with step k, journal records stamped
k, networks saved at k) are written before ``commit(k)``. `start` loads the newest resume
state, say of step k, and **rolls back** everything written after it — summaries of steps
> k are cut from the event files, journal records of steps > k removed, networks saved
after k deleted — so that the replay writes each of them once more, and once only. Data
order, dropout and noise are functions of (seed, step) (`tfib.data.epoch_order`), so the
replay computes the same numbers and the finished run equals an uninterrupted one. With no
resume state (a new run, or one killed before its first commit) everything is rolled back.

Layout::

    <run>/manifest.json     program, configuration, journals (`tfib.runs.manifest`)
    <run>/resume/           the resume states (`tfib.runs.resume_state`)
    <run>/*.jsonl           journals (`tfib.runs.journal`), e.g. results.jsonl
    <run>/networks.jsonl    the saved networks: step, path, SHA-256
    <run>/events.out.*      TensorBoard event files (and in subdirectories, e.g. train/)
    <run>/.lock             locked by the one process that writes the run (`run_lock`)

A directory with its own manifest inside a run is a run of its own (the seeds of
tfib-infoplane) and is left to its own roll back.

Under a multi-worker strategy only the chief writes (``chief=True``); the other workers read
the chief's resume state and write nothing but scratch states of their own.
"""
import hashlib
import json
import os
import shutil
from typing import Any, Dict, Mapping, Optional

from tfib.runs import atomic
from tfib.runs import manifest as manifest_lib
from tfib.runs import run_lock
from tfib.runs.errors import ConfigMismatchError, CorruptStateError, RunError
from tfib.runs.journal import Journal, read_records

__all__ = ["NETWORKS", "RESUME", "Run", "is_run_directory", "load_network", "network_path",
           "read_manifest", "saved_networks"]

RESUME = "resume"
NETWORKS = "networks.jsonl"


def is_run_directory(path: str) -> bool:
  return os.path.isfile(os.path.join(path, manifest_lib.MANIFEST))


def read_manifest(path: str) -> Dict[str, Any]:
  """The manifest of the run in ``path`` (RunError if it is not a tfib run)."""
  file = os.path.join(path, manifest_lib.MANIFEST)
  try:
    with open(file) as stream:
      manifest = json.load(stream)
  except (OSError, ValueError) as error:
    raise RunError(f"Cannot read {file}: {error}") from None
  if not isinstance(manifest, dict) or manifest.get("format") != manifest_lib.FORMAT:
    raise RunError(f"{file} is not the manifest of a tfib run (format "
                   f"{manifest_lib.FORMAT!r}); it was written by another tool or an older "
                   "tfib. Choose another directory.")
  return manifest


class Run:
  """A run directory (see the module docstring).

  Args:
    path: the directory (created if missing).
    program: the program that owns it; a directory owned by another program is refused.
    overwrite: delete the run that is there (only a tfib run directory) and start anew.
    force_resume: continue a run whose configuration differs; the manifest records the
      change.
    fall_back: continue from the previous resume state if the latest cannot be read
      (default: stop with an error that says so).
    chief: whether this process writes (False for the other workers of a multi-worker
      strategy).
    keep_states: how many resume states to keep.
  """

  def __init__(self, path: str, program: str, *, overwrite: bool = False,
               force_resume: bool = False, fall_back: bool = False, chief: bool = True,
               keep_states: int = 2):
    if overwrite and force_resume:
      raise ValueError("overwrite and force_resume contradict each other.")
    self.path = os.path.abspath(os.fspath(path))
    self.program = program
    self.overwrite = overwrite
    self.force_resume = force_resume
    self.fall_back = fall_back
    self.chief = chief
    self.keep_states = keep_states
    self.resumed_step: Optional[int] = None
    self.skipped_steps = []  # Unreadable resume states passed over by a fall back.
    self.manifest: Optional[Dict[str, Any]] = None
    self._config: Dict[str, Any] = {}
    self._trackables: Dict[str, Any] = {}
    self._state = None
    self._writers = {}
    self._started = False
    self._changed = False
    self._lock = None  # The key of `run_lock` while this process writes the run.

  # --- before start ---------------------------------------------------------------------

  def declare(self, section: str, config: Mapping[str, Any]):
    """Adds ``config`` to what defines the run. Before `open` it is checked against the
    manifest there; after, it must equal what the run holds (or is added if new)."""
    self._config[section] = manifest_lib.normalise(dict(config))
    if self.manifest is not None:
      self._reconcile(self.manifest)

  def track(self, **trackables):
    """Adds trackables to the resume state (network, optimizer, counters, ...)."""
    if self._started:
      raise RuntimeError(f"Run {self.path} has started; track its state before.")
    self._trackables.update(trackables)

  # --- opening ---------------------------------------------------------------------------

  def check(self):
    """Raises what `open` would raise (another program's directory, another configuration,
    files that are not a run), writing nothing: for programs that check before loading."""
    # One listing decides: a manifest created by another start after it counts next time.
    entries = ([e for e in atomic.finished_entries(self.path) if e != run_lock.LOCK]
               if os.path.isdir(self.path) else [])
    if manifest_lib.MANIFEST in entries:
      manifest = self._own_manifest()
      if not self.overwrite:
        self._reconcile(manifest, write=False)
    elif entries:
      raise RunError(f"{self.path} holds files but no tfib manifest: it is not a tfib run "
                     "directory, and tfib will not write into it. Choose another directory.")

  def open(self) -> Dict[str, Any]:
    """Checks (or creates) the manifest, without resuming: for runs whose progress is their
    journals alone. Returns the manifest."""
    if self.manifest is not None:
      return self.manifest
    self.check()
    if self.overwrite and self.chief:
      self._clear()
    if not is_run_directory(self.path):
      manifest = manifest_lib.new_manifest(self.program, self._config)
      if self._create_manifest(manifest):
        self.manifest = manifest
        return manifest
      # Another process created the run since the check (the jobs of one experiment started
      # together): this one joins it as if it had been there, never replacing its manifest.
    manifest = self._own_manifest()
    self._reconcile(manifest)
    self.manifest = manifest
    return manifest

  def start(self) -> Optional[int]:
    """Opens the run, restores the newest resume state and rolls back everything written
    after it. Returns the step resumed after (None: nothing to resume). Idempotent."""
    if self._started:
      return self.resumed_step
    try:
      return self._start()
    except BaseException:
      if self._lock is not None:  # A start that failed writes nothing more.
        run_lock.release(self._lock)
        self._lock = None
      raise

  def _start(self) -> Optional[int]:
    if self.chief and self._lock is None and is_run_directory(self.path):
      self._lock = run_lock.acquire(self.path)  # Before open() may rewrite the manifest.
    manifest = self.open()
    if self.chief and self._lock is None:
      self._lock = run_lock.acquire(self.path)
    if self._trackables:
      from tfib.runs.resume_state import ResumeState  # pylint: disable=g-import-not-at-top  (TF)
      self._state = ResumeState(
          os.path.join(self.path, RESUME), self._trackables, keep=self.keep_states,
          writable=self.chief,
          scratch=os.path.join(self.path, RESUME, f".worker-{run_lock.process_id()}"))
      self.resumed_step, self.skipped_steps = self._state.restore(fall_back=self.fall_back)
    if self.chief:
      if self._changed:
        manifest["config_changes"][-1]["after_step"] = self.resumed_step
        self._write_manifest(manifest)
      self.rollback(self.resumed_step)
    self._started = True
    return self.resumed_step

  # --- writing ---------------------------------------------------------------------------

  def journal(self, name: str, step_key: str = "step") -> Journal:
    """The journal ``<run>/<name>`` (JSON lines), registered for roll back."""
    manifest = self.open()
    if manifest["journals"].get(name) != step_key and self.chief:
      manifest["journals"][name] = step_key
      self._write_manifest(manifest)
    return Journal(os.path.join(self.path, name), step_key, writable=self.chief)

  def writer(self, subdir: str = ""):
    """A TensorBoard summary writer into ``<run>/<subdir>`` (a no-op writer off the chief).

    Only after `start`: the roll back rewrites event files, which an open writer would
    keep writing to after they were replaced.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    if not self._started:
      raise RuntimeError(f"Start the run {self.path} before writing summaries into it.")
    if subdir not in self._writers:
      self._writers[subdir] = (tf.summary.create_file_writer(os.path.join(self.path, subdir))
                               if self.chief else tf.summary.create_noop_writer())
    return self._writers[subdir]

  def save_network(self, model, step: int, relative_path: str,
                   **facts) -> Optional[Dict[str, Any]]:
    """Saves a Keras ``model`` (.keras) as the network of ``step``; returns its entry in
    ``networks.jsonl`` (None off the chief)."""
    if not self.chief:
      return None
    path = os.path.join(self.path, relative_path)
    with atomic.replacing(path) as temporary:
      model.save(temporary)
    entry = {"step": int(step), "path": relative_path, "sha256": _sha256(path), **facts}
    self.journal(NETWORKS).append([entry])
    return entry

  def commit(self, step: int):
    """Marks everything of steps <= ``step`` done: flushes the writers, saves the state."""
    from tfib.runs.crash_points import crash_point  # pylint: disable=g-import-not-at-top

    if not self._started:
      raise RuntimeError(f"Run {self.path} has not started.")
    for writer in self._writers.values():
      writer.flush()
    crash_point("commit")
    if self._state is not None:
      self._state.save(step)
    crash_point("committed")

  def close(self):
    for writer in self._writers.values():
      writer.close()
    self._writers.clear()
    if self._state is not None:
      self._state.close()
    if self._lock is not None:
      run_lock.release(self._lock)
      self._lock = None

  # --- roll back -------------------------------------------------------------------------

  def rollback(self, step: Optional[int]):
    """Removes every output of steps > ``step`` (None: every output)."""
    from tfib.runs import event_files  # pylint: disable=g-import-not-at-top  (imports TF)

    nested = lambda directory: is_run_directory(directory)  # pylint: disable=unnecessary-lambda-assignment
    event_files.truncate_events(self.path, step, skip=nested)
    networks = read_records(os.path.join(self.path, NETWORKS))
    later = [e for e in networks if step is None or e["step"] > step]
    kept = {os.path.normpath(e["path"]) for e in networks if e not in later}
    for name, step_key in self.manifest["journals"].items():
      Journal(os.path.join(self.path, name), step_key).truncate(step)
    for entry in later:
      target = os.path.join(self.path, entry["path"])
      if os.path.normpath(entry["path"]) not in kept and os.path.exists(target):
        os.remove(target)
    for root, directories, _ in os.walk(self.path):
      directories[:] = [d for d in directories if not nested(os.path.join(root, d))]
      atomic.remove_temporaries(root)
    if self._state is not None:
      self._state.remove_temporaries()

  # --- internals -------------------------------------------------------------------------

  def _own_manifest(self) -> Dict[str, Any]:
    manifest = read_manifest(self.path)
    if manifest.get("program") != self.program:
      raise RunError(f"{self.path} holds a run of {manifest.get('program')}; {self.program} "
                     "cannot continue it. Choose another directory.")
    return manifest

  def _reconcile(self, manifest: Dict[str, Any], write: bool = True):
    """Refuses a configuration that differs from the run's (unless forced); sections the
    run does not hold yet are added."""
    held = manifest["config"]
    changed = manifest_lib.differences({k: held[k] for k in self._config if k in held},
                                       {k: self._config[k] for k in self._config if k in held})
    if changed and not self.force_resume:
      listing = "; ".join(f"{key}: {old!r} in the run, {new!r} now"
                          for key, (old, new) in changed.items())
      raise ConfigMismatchError(
          f"{self.path} holds a run with a different configuration ({listing}). Use another "
          "directory, or --overwrite to delete this run and start again, or --force_resume "
          "to continue it with the new settings.", changed)
    if not write:
      return
    if changed:
      manifest["config_changes"].append({"previous": dict(held), "after_step": None})
      self._changed = True
    if changed or any(k not in held for k in self._config):
      manifest["config"] = dict(held, **self._config)
      self._write_manifest(manifest)

  def _create_manifest(self, manifest: Mapping[str, Any]) -> bool:
    """Writes the manifest of a new run; False if another process created one first."""
    if not self.chief:
      return True
    os.makedirs(self.path, exist_ok=True)
    return atomic.create_json(os.path.join(self.path, manifest_lib.MANIFEST), manifest)

  def _write_manifest(self, manifest: Mapping[str, Any]):
    if self.chief:
      os.makedirs(self.path, exist_ok=True)
      atomic.write_json(os.path.join(self.path, manifest_lib.MANIFEST), manifest)

  def _clear(self):
    """Deletes the run in ``path`` (`check` made sure it is this program's run)."""
    if not is_run_directory(self.path):
      return
    # Never under a process that writes it or a run inside it (a job of an experiment):
    # their locks are held until everything but this run's lock file is deleted, and this
    # one is kept for the new run.
    if self._lock is None:
      self._lock = run_lock.acquire(self.path)
    nested = []
    try:
      for root, _, files in os.walk(self.path):
        if root != self.path and manifest_lib.MANIFEST in files:
          nested.append(run_lock.acquire(root))
      for name in os.listdir(self.path):
        target = os.path.join(self.path, name)
        if name == run_lock.LOCK:
          continue
        if os.path.isdir(target) and not os.path.islink(target):
          shutil.rmtree(target)
        else:
          os.remove(target)
    finally:
      for key in nested:
        run_lock.release(key)


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as stream:
    for chunk in iter(lambda: stream.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


# --- reading a run from other programs ----------------------------------------------------


def saved_networks(path: str) -> Dict[int, Dict[str, Any]]:
  """{step: entry} of the networks the run in ``path`` has saved (see `Run.save_network`)."""
  if not is_run_directory(path):
    raise RunError(f"{os.path.abspath(path)} is not a tfib run directory (no "
                   f"{manifest_lib.MANIFEST}).")
  return {entry["step"]: entry for entry in read_records(os.path.join(path, NETWORKS))}


def network_path(path: str, step: int) -> str:
  """The file of the network saved at ``step``; KeyError lists the steps there are."""
  entries = saved_networks(path)
  if step not in entries:
    raise KeyError(f"{os.path.abspath(path)} has no network saved at step {step}; saved: "
                   f"{sorted(entries) or 'none yet'}.")
  return os.path.join(path, entries[step]["path"])


def load_network(path: str, step: int, verify: bool = True):
  """The Keras model saved at ``step`` by the run in ``path``.

  With ``verify`` its SHA-256 is checked against ``networks.jsonl`` first. Raises KeyError
  for a step with no network and CorruptStateError for a file that is missing, altered or
  unreadable (the other networks stay loadable).
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tfib.layers  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import  (registers)

  file = network_path(path, step)
  if not os.path.isfile(file):
    raise CorruptStateError(f"The network of step {step} is missing: {file}.")
  if verify and _sha256(file) != saved_networks(path)[step]["sha256"]:
    raise CorruptStateError(
        f"The network of step {step} ({file}) is corrupt: its SHA-256 does not match "
        f"networks.jsonl. Other saved steps: {sorted(saved_networks(path))}.")
  try:
    return keras.saving.load_model(file, compile=False)
  except Exception as error:  # pylint: disable=broad-except  (zip, h5, JSON, Keras errors)
    raise CorruptStateError(f"The network of step {step} ({file}) cannot be read: "
                            f"{type(error).__name__}: {error}") from error
