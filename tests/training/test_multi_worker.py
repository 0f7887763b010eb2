"""tfib-train on two workers (MultiWorkerMirroredStrategy over loopback), as the README runs it.

Only the chief writes the run directory. When a worker dies, the collectives of the others
fail or hang, so the cluster is started again with the same commands (the README's
recipe): every worker restores the chief's last resume state and the run continues, the
same as one that was never interrupted.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np

import tfib.training

FLAGS = ["--width=2", "--depth=10", "--batch_size=32", "--max_train_examples=256",
         "--max_eval_examples=64", "--epochs=6", "--save_epochs=0,3", "--noaugment",
         "--strategy=multi_worker"]


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _start_cluster(logdir, log_prefix):
  ports = _free_ports(2)
  workers = []
  for index in range(2):
    config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
              "task": {"type": "worker", "index": index}}
    env = dict(os.environ, TF_CONFIG=json.dumps(config))
    log = open(f"{log_prefix}-{index}.log", "w")
    workers.append(subprocess.Popen(
        [sys.executable, "-m", "tfib.bin.train", *FLAGS, f"--logdir={logdir}"], env=env,
        stdout=log, stderr=subprocess.STDOUT))
  return workers


def _wait(workers, timeout=600):
  deadline = time.monotonic() + timeout
  for worker in workers:
    worker.wait(timeout=max(1, deadline - time.monotonic()))
  return [worker.returncode for worker in workers]


def _last_epoch(logdir):
  try:
    history = tfib.training.training_history(logdir)
  except (OSError, ValueError):
    return None
  return history[-1]["epoch"] if history else None


def test_only_the_chief_writes_and_a_restarted_cluster_continues(tmp_path):
  whole = str(tmp_path / "whole")
  assert _wait(_start_cluster(whole, tmp_path / "whole")) == [0, 0], (
      (tmp_path / "whole-1.log").read_text()[-3000:])
  assert [e["epoch"] for e in tfib.training.training_history(whole)] == list(range(7))
  assert tfib.training.saved_epochs(whole) == [0, 3, 6]
  assert not os.path.exists(os.path.join(whole, "resume", ".scratch"))
  assert not [n for n in os.listdir(os.path.join(whole, "resume")) if n.startswith(".worker")]
  assert "the chief wrote" in (tmp_path / "whole-1.log").read_text()

  killed = str(tmp_path / "killed")
  workers = _start_cluster(killed, tmp_path / "first")
  deadline = time.monotonic() + 600
  while (_last_epoch(killed) or 0) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
  workers[1].send_signal(signal.SIGKILL)  # A worker dies; the chief cannot go on alone.
  time.sleep(2)
  workers[0].send_signal(signal.SIGKILL)
  _wait(workers)
  assert 2 <= _last_epoch(killed) < 6
  assert _wait(_start_cluster(killed, tmp_path / "again")) == [0, 0], (
      (tmp_path / "again-0.log").read_text()[-3000:])
  assert "resumed after epoch" in (tmp_path / "again-0.log").read_text()
  ours, theirs = (tfib.training.training_history(d) for d in (killed, whole))
  assert [e["epoch"] for e in ours] == list(range(7))
  for a, b in zip(ours, theirs):  # Two workers sum their gradients in either order.
    for name, value in b["metrics"].items():
      np.testing.assert_allclose(a["metrics"][name], value, rtol=1e-4, atol=1e-6)
