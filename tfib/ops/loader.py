"""Loads the compiled op library of kernels/ lazily, with the pure-TensorFlow reference as
fallback.

The library is ``tfib/ops/_tfib_ops<suffix>``, ``<suffix>`` being the extension suffix
setuptools gave it (``.cpython-311-x86_64-linux-gnu.so``, ...). It is compiled against the
TensorFlow release pinned in pyproject.toml; loaded into another release it usually fails
with an undefined symbol. When the library is missing or fails to load, tfib warns once per
process and every op runs its pure-TensorFlow reference: the same numbers, slower.

The environment variable ``TFIB_REFERENCE_OPS=1`` forces the reference path. It is read at
every call, so a test can switch paths with ``monkeypatch.setenv``.
"""
import importlib.machinery
import os
import threading
import warnings

import tensorflow as tf

REFERENCE_ENV_VAR = "TFIB_REFERENCE_OPS"
KERNEL = "kernel"
REFERENCE = "reference"

_LIBRARY_NAME = "_tfib_ops"
_TRUE_VALUES = ("1", "true", "yes", "on")


class _LoadState:
  """The outcome of the one attempt per process to load the library."""

  def __init__(self):
    self.lock = threading.Lock()
    self.attempted = False
    self.library = None
    self.error = None


_STATE = _LoadState()


def reference_forced() -> bool:
  """Whether ``TFIB_REFERENCE_OPS`` (1, true, yes or on) forces the reference path."""
  return os.environ.get(REFERENCE_ENV_VAR, "").strip().lower() in _TRUE_VALUES


def op_library():
  """The loaded op library, or None if it is missing or failed to load.

  The first call loads it; if that fails, it warns (RuntimeWarning) naming the problem. Later
  calls return the same outcome without warning again.
  """
  with _STATE.lock:
    if not _STATE.attempted:
      _STATE.attempted = True
      _STATE.library, _STATE.error = _load()
      if _STATE.error is not None:
        warnings.warn(_STATE.error, RuntimeWarning, stacklevel=3)
  return _STATE.library


def load_error():
  """Why the op library did not load (a message), or None if it loaded or was not tried."""
  return _STATE.error


def active_path() -> str:
  """``"kernel"`` if ops run the compiled kernels now, else ``"reference"``."""
  if reference_forced() or op_library() is None:
    return REFERENCE
  return KERNEL


def _find_library():
  """The path of the compiled library next to this file, or None."""
  directory = os.path.dirname(os.path.abspath(__file__))
  for suffix in importlib.machinery.EXTENSION_SUFFIXES:
    path = os.path.join(directory, _LIBRARY_NAME + suffix)
    if os.path.exists(path):
      return path
  return None


def _load():
  """Returns (library, None) or (None, a message saying what went wrong)."""
  fallback = "tfib falls back to its pure-TensorFlow reference ops: same results, slower."
  path = _find_library()
  if path is None:
    return None, (
        f"The tfib op library ({_LIBRARY_NAME}*.so) is not in "
        f"{os.path.dirname(os.path.abspath(__file__))}: tfib was installed without compiling "
        f"kernels/ (reinstall it with `pip install .`). {fallback}")
  try:
    return tf.load_op_library(path), None
  except (tf.errors.OpError, OSError) as error:
    return None, (
        f"The tfib op library {path} failed to load into TensorFlow {tf.__version__}: "
        f"{error}. It must be compiled against the installed TensorFlow (tfib pins "
        f"tensorflow==2.21.0): reinstall tfib. {fallback}")
