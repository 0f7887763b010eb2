"""Named points where a test can kill the process, to prove that resuming is exact.

``TFIB_CRASH_AT=<name>:<n>`` makes the n-th arrival at `crash_point(name)` kill the process
with SIGKILL (no clean-up, no flush: what a power cut or ``kill -9`` does). Tests set it for
a subprocess, then run the same command again and compare with an uninterrupted run.
Unset, a crash point costs one environment lookup.
"""
import collections
import os
import signal

__all__ = ["ENV_VAR", "crash_point"]

ENV_VAR = "TFIB_CRASH_AT"
_arrivals = collections.Counter()


def crash_point(name: str):
  """Kills this process here if ``TFIB_CRASH_AT`` names this point and arrival."""
  spec = os.environ.get(ENV_VAR)
  if not spec:
    return
  target, _, count = spec.partition(":")
  if target != name:
    return
  _arrivals[name] += 1
  if _arrivals[name] == int(count or 1):
    os.kill(os.getpid(), signal.SIGKILL)
