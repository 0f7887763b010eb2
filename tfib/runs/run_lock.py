"""Which process writes a run: an exclusive lock on ``<run>/.lock``.

Two processes writing one run (the same command in two terminals, a requeued job whose first
copy still runs) would roll back and overwrite each other's outputs, so `tfib.runs.Run`
holds this lock from `Run.start` (or the clearing of ``--overwrite``) to `Run.close`, and a
second process is refused, with the holder's host and process id.

The lock is a POSIX record lock (``fcntl.lockf``), which NFS servers keep too; the kernel
releases it when the process ends, however it ends (a crashed NFS client's lock lasts until
its lease runs out, about 90 s on NFSv4). A POSIX lock belongs to the process and ends when
the process closes any file open on it, so within one process the `Run` objects of one run
(tests, a callback and a checkpoint on one directory) share one open file, counted, closed
by the last `release`. Where the file system has no locks (ENOLCK), there is no guard.
"""
import errno
import fcntl
import os
import socket
from typing import Dict, List, Tuple

from tfib.runs.errors import RunError

__all__ = ["LOCK", "acquire", "process_id", "release"]

LOCK = ".lock"
_HELD: Dict[Tuple[int, int], List] = {}  # {(device, inode): [open lock file, holders]}
# A forked child holds none of its parent's POSIX locks, so none of its record either.
os.register_at_fork(after_in_child=_HELD.clear)


def process_id() -> str:
  """This process, as "host-pid"."""
  return f"{socket.gethostname()}-{os.getpid()}"


def acquire(path: str) -> Tuple[int, int]:
  """Locks the run in ``path`` for this process (RunError if another process holds it).
  Returns the key to `release`."""
  file = os.path.join(path, LOCK)
  if os.path.exists(file):
    status = os.stat(file)
    key = (status.st_dev, status.st_ino)
    if key in _HELD:
      _HELD[key][1] += 1
      return key
  stream = open(file, "a+")
  try:
    fcntl.lockf(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except OSError as error:
    if error.errno != errno.ENOLCK:
      stream.seek(0)
      holder = stream.read().strip() or "unknown"
      stream.close()
      if error.errno not in (errno.EACCES, errno.EAGAIN):
        raise
      raise RunError(f"{path} is being written by another process ({holder}, host-pid): "
                     "two processes writing one run would mix their outputs. Wait for it "
                     "to end (or stop it), then run the same command to resume.") from None
  else:
    stream.truncate(0)
    stream.write(f"{process_id()}\n")
    stream.flush()
  status = os.fstat(stream.fileno())
  key = (status.st_dev, status.st_ino)
  _HELD[key] = [stream, 1]
  return key


def release(key: Tuple[int, int]):
  """Ends one `acquire` of this process; the last one unlocks."""
  held = _HELD[key]
  held[1] -= 1
  if not held[1]:
    held[0].close()
    del _HELD[key]
