"""Atomic file writes: a file is either its old or its new content, whatever kills the process.

Every file a run writes goes through here: the content is written to a temporary file in the
same directory (same file system, so the rename is atomic), flushed to disk, renamed over the
target with ``os.replace`` (or, to create a file only if it does not exist, hard-linked to
it: `create_json`), and the directory entry itself is flushed. Temporary names start
with `TEMPORARY_PREFIX`, so a run that resumes can delete what a killed write left behind
(`remove_temporaries`).
"""
import contextlib
import errno
import fcntl
import glob
import json
import os
import secrets
import shutil
from typing import Iterator, List

__all__ = ["TEMPORARY_PREFIX", "create_json", "finished_entries", "fsync_directory",
           "rebuilt_directory", "remove_temporaries", "replacing", "write_bytes", "write_json",
           "write_text"]

TEMPORARY_PREFIX = ".tmp-"
# What os.link raises on a file system without hard links (FAT, some network and FUSE ones).
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)


def fsync_directory(directory: str):
  """Flushes ``directory``'s entries to disk (where the file system allows it)."""
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


def _temporary_path(path: str) -> str:
  directory, name = os.path.split(os.path.abspath(path))
  # Unique across hosts too: jobs on several machines (or containers, whose process ids
  # repeat) may write the same file of a shared directory, such as a new run's manifest.
  return os.path.join(directory, f"{TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{name}")


@contextlib.contextmanager
def replacing(path: str) -> Iterator[str]:
  """Yields a temporary path to write; on success it replaces ``path`` atomically.

  For writers that want a file name rather than bytes (``model.save``, ``savefig``). The
  temporary name keeps the target's suffix (Keras insists on ``.keras``). On an exception the
  temporary file is removed and ``path`` keeps its old content.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  temporary = _temporary_path(path)
  try:
    yield temporary
    with open(temporary, "rb") as stream:
      os.fsync(stream.fileno())
    os.replace(temporary, path)
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(temporary)
    raise
  fsync_directory(directory)


def write_bytes(path: str, data: bytes):
  """Replaces ``path`` with ``data`` atomically."""
  with replacing(path) as temporary:
    with open(temporary, "wb") as stream:
      stream.write(data)


def write_text(path: str, text: str):
  write_bytes(path, text.encode())


def write_json(path: str, value):
  """Replaces ``path`` with ``value`` as indented JSON (NaN and Inf are refused)."""
  write_text(path, _json_text(value))


def _json_text(value) -> str:
  return json.dumps(value, indent=2, allow_nan=False) + "\n"


def create_json(path: str, value) -> bool:
  """Writes ``value`` to ``path`` as `write_json` does, but only if ``path`` does not exist:
  the complete temporary is hard-linked into place, which fails if another process created
  ``path`` first (atomic on local file systems and NFS). Returns whether this call created
  it. Where the file system has no hard links it checks that ``path`` does not exist and
  renames the temporary to it: there two creators within that moment can both succeed.
  """
  temporary = _temporary_path(path)
  try:
    with open(temporary, "w") as stream:
      stream.write(_json_text(value))
      stream.flush()
      os.fsync(stream.fileno())
    try:
      os.link(temporary, path)
    except FileExistsError:
      return False
    except OSError as error:
      if error.errno not in _NO_HARD_LINKS:
        raise
      if os.path.exists(path):
        return False
      os.replace(temporary, path)
  finally:
    with contextlib.suppress(OSError):
      os.remove(temporary)
  fsync_directory(os.path.dirname(os.path.abspath(path)))
  return True


@contextlib.contextmanager
def rebuilt_directory(path: str) -> Iterator[str]:
  """Rebuilds the directory ``path`` whole: yields an empty staging directory beside it and,
  when the block ends, puts it in place of ``path`` (readers see the old directory or the
  new one, never a mix). Processes that rebuild ``path`` at once (the jobs of an array that
  finish together, each writing the summary of what is done) take turns: each holds an
  exclusive lock on ``.<name>.lock`` beside it from the staging to the swap, so each
  rebuild is whole, and deletes at the start of its turn what killed rebuilds left."""
  parent, name = os.path.split(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  leftovers = os.path.join(parent, f"{TEMPORARY_PREFIX}{name}-")
  with open(os.path.join(parent, f".{name}.lock"), "a") as lock:
    try:
      fcntl.flock(lock, fcntl.LOCK_EX)  # Released when the file closes, or the process dies.
      for leftover in glob.glob(glob.escape(leftovers) + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    except OSError as error:
      if error.errno != errno.ENOLCK:  # A network file system without locks: no turns.
        raise
    staging = f"{leftovers}{secrets.token_hex(4)}"
    old = f"{staging}-old"
    os.makedirs(staging)
    yield staging
    if os.path.exists(path):
      os.replace(path, old)
    os.replace(staging, path)
    shutil.rmtree(old, ignore_errors=True)
    fsync_directory(parent)


def finished_entries(directory: str) -> List[str]:
  """The names in ``directory`` that are not temporaries of atomic writes: a temporary is a
  write in progress (another process's, such as a multi-worker chief writing its manifest)
  or one a kill cut short, never a finished file."""
  return [name for name in os.listdir(directory) if not name.startswith(TEMPORARY_PREFIX)]


def remove_temporaries(directory: str):
  """Deletes what killed atomic writes left in ``directory`` (not in subdirectories)."""
  if not os.path.isdir(directory):
    return
  for name in os.listdir(directory):
    if name.startswith(TEMPORARY_PREFIX):
      target = os.path.join(directory, name)
      if os.path.isdir(target):
        shutil.rmtree(target, ignore_errors=True)
      else:
        with contextlib.suppress(OSError):
          os.remove(target)
