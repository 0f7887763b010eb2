"""Chains of resumable jobs, side by side in worker processes of one machine.

A chain is a list of jobs that must run in order (the decoders of one layer, each starting
from the one of the previous epoch); chains are independent of each other. `run_chains`
hands the chains to ``workers`` processes, each with its share of the cores as TensorFlow
threads (`usable_cores` // ``workers``). Small networks use several threads of one process
poorly on a CPU: two processes of one thread each take about 1.2x the decoder steps per
second of one process of two threads on a 2-core machine (bench/bench_decoder_mi.py).

Every job is a resumable run (`tfib.runs.Run`), so a killed pool is resumed by running
the same chains again. A worker ends itself within half a second of its parent's death, so
a restarted command never shares a run directory with a worker left over from the killed
one; a worker that dies (killed, out of memory) is a `WorkerDiedError`, its job resumable.
"""
import concurrent.futures
import multiprocessing
import os
import threading
import time
from typing import Callable, Sequence

from tfib.runs.errors import RunError

__all__ = ["WorkerDiedError", "run_chains", "usable_cores"]


class WorkerDiedError(RunError):
  """A worker process ended without finishing its chain (killed, out of memory, ...)."""


def usable_cores() -> int:
  """The cores this process may run on."""
  if hasattr(os, "sched_getaffinity"):
    return len(os.sched_getaffinity(0))
  return os.cpu_count() or 1


def _end_with(parent: int):
  """Ends this process as soon as ``parent`` is no longer its parent."""
  while os.getppid() == parent:
    time.sleep(0.5)
  os._exit(1)  # pylint: disable=protected-access  (no clean-up: as if killed with it)


def _initialise(parent: int, threads: int):
  threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
  import tensorflow as tf  # pylint: disable=g-import-not-at-top  (before any op runs)
  tf.config.threading.set_intra_op_parallelism_threads(threads)
  tf.config.threading.set_inter_op_parallelism_threads(threads)


def run_chains(run_chain: Callable[[Sequence[str]], None], chains: Sequence[Sequence[str]],
               workers: int):
  """Calls ``run_chain(chain)`` for every chain, in at most ``workers`` worker processes.

  ``run_chain`` is pickled into the workers (a module-level function, or a
  `functools.partial` of one). Each worker has `usable_cores` // ``workers`` TensorFlow
  threads however few chains are left, so a job's thread count, and with it the order of
  its floating-point sums, does not depend on how much of a resumed run was done before.
  Returns when every chain is done. A chain is handed to a worker only when one is free,
  so if a chain raises, no other chain starts, the ones running finish, and the exception
  is raised here; a worker that dies raises `WorkerDiedError`.
  """
  if workers < 1:
    raise ValueError(f"workers must be >= 1, got {workers}.")
  if not chains:
    return
  threads = max(1, usable_cores() // workers)
  processes = min(workers, len(chains))
  waiting = [list(chain) for chain in reversed(chains)]
  with concurrent.futures.ProcessPoolExecutor(
      processes, multiprocessing.get_context("spawn"), initializer=_initialise,
      initargs=(os.getpid(), threads)) as pool:
    running = set()
    try:
      while waiting or running:
        while waiting and len(running) < processes:
          running.add(pool.submit(run_chain, waiting.pop()))
        done, running = concurrent.futures.wait(
            running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
          future.result()
    except concurrent.futures.process.BrokenProcessPool as error:
      raise WorkerDiedError(
          f"A worker process ended before its jobs were done ({error}: killed, out of "
          "memory, or an error that could not be sent back); the finished jobs are kept: "
          "run the same command again to resume.") from error
