"""Jobs for tests/runs/test_job_chains.py that run inside spawned worker processes.

A worker unpickles a job by its module's name, so these live in a module of their own that
the test puts on sys.path (workers inherit it); pytest's importlib mode gives the test module
itself a name (tests.runs.test_job_chains) that a worker cannot import.
"""
import os
import pathlib
import signal
import time


def record(directory, chain):
  """Appends (job, process, TensorFlow threads) for each job to the chain's file."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for job in chain:
    with open(os.path.join(directory, chain[0]), "a") as stream:
      stream.write(f"{job} {os.getpid()} "
                   f"{tf.config.threading.get_intra_op_parallelism_threads()}\n")
    time.sleep(0.2)


def fail(directory, chain):
  """Marks the chain as started; the chain "bad" raises, the others take a second."""
  (pathlib.Path(directory) / chain[0]).touch()
  if chain[0] == "bad":
    raise ValueError(f"job {chain[0]} refused")
  time.sleep(1)


def die(directory, chain):
  """Marks the chain as started; the chain "killed" kills its own worker."""
  (pathlib.Path(directory) / chain[0]).touch()
  if chain[0] == "killed":
    os.kill(os.getpid(), signal.SIGKILL)


def sleep(directory, chain):
  """Writes the worker's process id to the chain's file, then sleeps two minutes."""
  with open(os.path.join(directory, chain[0]), "w") as stream:
    stream.write(str(os.getpid()))
  time.sleep(120)
