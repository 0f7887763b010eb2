"""Chains of jobs in worker processes: order, threads, errors, and no worker outliving a
killed parent."""
import functools
import importlib
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

from tfib import runs
from tfib.runs import job_chains


@pytest.fixture(name="jobs")
def _jobs(monkeypatch):
  """tests/runs/chain_jobs.py, importable by name here and in the spawned workers."""
  monkeypatch.syspath_prepend(os.path.dirname(__file__))
  return importlib.import_module("chain_jobs")


def test_every_chain_runs_in_order_in_the_workers(jobs, tmp_path):
  chains = [["a0", "a1", "a2"], ["b0", "b1"], ["c0"]]
  job_chains.run_chains(functools.partial(jobs.record, str(tmp_path)), chains, workers=2)
  processes = set()
  for chain in chains:
    lines = [line.split() for line in (tmp_path / chain[0]).read_text().splitlines()]
    assert [job for job, _, _ in lines] == chain
    processes |= {pid for _, pid, _ in lines}
    threads = {int(t) for _, _, t in lines}
    assert threads == {max(1, job_chains.usable_cores() // 2)}
  assert str(os.getpid()) not in processes and 1 <= len(processes) <= 2
  # One chain left of a resumed run: its worker has the threads of one of two workers.
  job_chains.run_chains(functools.partial(jobs.record, str(tmp_path)), [["d0"]], workers=2)
  threads = int((tmp_path / "d0").read_text().split()[2])
  assert threads == max(1, job_chains.usable_cores() // 2)


def test_a_chains_error_is_raised_in_the_parent_and_no_chain_starts_after_it(jobs, tmp_path):
  with pytest.raises(ValueError, match="job bad refused"):
    job_chains.run_chains(functools.partial(jobs.fail, str(tmp_path)),
                          [["bad"], ["running"], ["later"]], workers=2)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "running"]


def test_a_dead_worker_is_a_clear_error(jobs, tmp_path):
  with pytest.raises(job_chains.WorkerDiedError, match="run the same command again"):
    job_chains.run_chains(functools.partial(jobs.die, str(tmp_path)), [["killed"], ["other"]],
                          workers=2)
  assert (tmp_path / "killed").exists()  # It died of its job, not of a job it could not load.


def _alive(pid):
  try:
    with open(f"/proc/{pid}/status") as stream:
      return "zombie" not in stream.read()
  except FileNotFoundError:
    return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads processes from /proc")
def test_no_worker_outlives_a_killed_parent(tmp_path):
  parent = subprocess.Popen([sys.executable, "-c", (
      "import functools, sys\n"
      f"sys.path.insert(0, {os.path.dirname(__file__)!r})\n"
      "import chain_jobs\n"
      "from tfib.runs import job_chains\n"
      f"job_chains.run_chains(functools.partial(chain_jobs.sleep, {str(tmp_path)!r}), "
      "[['a'], ['b']], workers=2)\n")])
  deadline = time.monotonic() + 120
  while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.2)
  workers = [int(path.read_text()) for path in tmp_path.iterdir()]
  assert len(workers) == 2
  parent.send_signal(signal.SIGKILL)
  parent.wait()
  deadline = time.monotonic() + 10
  alive = workers
  while alive and time.monotonic() < deadline:
    time.sleep(0.2)
    alive = [pid for pid in workers if _alive(pid)]
  assert not alive


def test_workers_must_be_positive(jobs, tmp_path):
  with pytest.raises(ValueError, match="workers must be >= 1"):
    job_chains.run_chains(functools.partial(jobs.die, str(tmp_path)), [["good"]], workers=0)


def test_a_configuration_mismatch_crosses_from_a_worker_whole():
  error = runs.ConfigMismatchError("another configuration", {"decoders.seed": (0, 1)})
  copy = pickle.loads(pickle.dumps(error))  # How a worker's exception reaches its parent.
  assert str(copy) == "another configuration" and copy.differences == error.differences
