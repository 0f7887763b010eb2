"""tfib-train as a user runs it: killed with SIGKILL and resumed, and its error messages."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tfib.training
from tfib.runs import event_files
from tfib.training.train_config import TrainConfig

QUICK = ["--width=2", "--depth=10", "--batch_size=32", "--max_train_examples=512",
         "--max_eval_examples=64", "--epochs=8", "--save_epochs=0,1,2,4"]
QUICK_CONFIG = TrainConfig(width=2, depth=10, batch_size=32, max_train_examples=512,
                           max_eval_examples=64, epochs=8, save_epochs="0,1,2,4")


def _command(*flags):
  return [sys.executable, "-m", "tfib.bin.train", *flags]


def _run(*flags, timeout=600):
  return subprocess.run(_command(*flags), capture_output=True, text=True, timeout=timeout)


def _last_epoch(run_dir):
  history = tfib.training.training_history(run_dir) if os.path.exists(run_dir) else []
  return history[-1]["epoch"] if history else None


def test_a_run_killed_anywhere_resumes_to_the_uninterrupted_run(tmp_path):
  run_dir = str(tmp_path / "run")
  flags = QUICK + [f"--logdir={run_dir}"]
  for crash in ("commit:3",     # epoch 2 written, its resume state not yet
                "committed:5"):  # just after the resume state of epoch 4
    killed = subprocess.run(_command(*flags), env=dict(os.environ, TFIB_CRASH_AT=crash),
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
  with open(tmp_path / "third.log", "w") as log:  # And a kill in the middle of an epoch.
    process = subprocess.Popen(_command(*flags), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while (_last_epoch(run_dir) or 0) < 6 and process.poll() is None:
      assert time.monotonic() < deadline, "the run made no progress"
      time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
  assert process.returncode == -signal.SIGKILL, (tmp_path / "third.log").read_text()[-3000:]
  killed_at = _last_epoch(run_dir)
  assert 6 <= killed_at < 8, "the kill came too late to test anything"

  result = _run(*flags)
  assert result.returncode == 0, result.stderr[-3000:]
  resumed_after = int(result.stdout.split("resumed after epoch ")[1].split()[0])
  # The history is written just before the resume state: the kill may fall in between.
  assert killed_at - 1 <= resumed_after <= killed_at

  history = tfib.training.training_history(run_dir)
  assert [e["epoch"] for e in history] == list(range(9))
  assert tfib.training.saved_epochs(run_dir) == [0, 1, 2, 4, 8]
  assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == [
      f"epoch_{k:04d}.keras" for k in (0, 1, 2, 4, 8)]
  assert not [name for _, _, files in os.walk(run_dir) for name in files
              if name.startswith(".tmp-")]

  # Same batches, same state: the resumed run is the uninterrupted run, number for number.
  reference = str(tmp_path / "reference")
  assert _run(*QUICK, f"--logdir={reference}").returncode == 0
  assert history == tfib.training.training_history(reference)
  for name in ("train", "eval"):
    ours, theirs = (event_files.read_scalars(os.path.join(d, name)) for d in (run_dir, reference))
    assert ours.keys() == theirs.keys()
    for tag, points in theirs.items():
      assert sorted(ours[tag]) == sorted(points), (name, tag)
  ours, theirs = (tfib.training.load_checkpoint(d, 8) for d in (run_dir, reference))
  for a, b in zip(ours.get_weights(), theirs.get_weights()):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("flag, message", [
    ("--dataset=imagenet", "--dataset=imagenet: value should be one of <mnist5k|mnist"),
    ("--mode=gan", "value should be one of <classifier|autoencoder>"),
    ("--epochs=0", "--epochs=0: 0 is not a positive integer"),
    ("--depth=12", "Unknown ResNet depth 12"),
    ("--save_epochs=log:x", "Bad save_epochs spec"),
    ("--lr_decay_epochs=a,b", "--lr_decay_epochs takes numbers"),
])
def test_bad_flags_are_usage_errors(tmp_path, flag, message):
  result = _run(flag, f"--logdir={tmp_path / 'run'}", timeout=120)
  assert result.returncode != 0
  assert message in result.stderr
  assert "Traceback" not in result.stderr
  assert not os.path.exists(tmp_path / "run")


def test_run_directories_of_other_configurations_or_programs_are_refused(tmp_path):
  run_dir = tmp_path / "run"
  run_dir.mkdir()
  manifest = {"format": "tfib-run/1", "program": "tfib-train",
              "config": {"train": QUICK_CONFIG.as_dict()}, "config_changes": [],
              "journals": {}}
  (run_dir / "manifest.json").write_text(json.dumps(manifest))
  result = _run(*QUICK, "--width=4", f"--logdir={run_dir}", timeout=120)
  assert result.returncode != 0
  assert "train.width: 2 in the run, 4 now" in result.stderr
  assert "--force_resume" in result.stderr
  (run_dir / "manifest.json").write_text(json.dumps(dict(manifest, program="tfib-mine")))
  result = _run(*QUICK, f"--logdir={run_dir}", timeout=120)
  assert result.returncode != 0 and "holds a run of tfib-mine" in result.stderr
  (tmp_path / "notes").mkdir()
  (tmp_path / "notes" / "todo.txt").write_text("keep me")
  for flag in ("--overwrite", "--force_resume"):
    result = _run(*QUICK, f"--logdir={tmp_path / 'notes'}", flag, timeout=120)
    assert result.returncode != 0 and "not a tfib run directory" in result.stderr
  assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
  result = _run("--overwrite", "--force_resume", f"--logdir={run_dir}", timeout=120)
  assert "contradict" in result.stderr


NO_NETWORK = textwrap.dedent("""
    import sys
    import tensorflow_datasets as tfds

    def no_network(*args, **kwargs):
      raise tfds.core.download.DownloadError("Failed to resolve 'storage.googleapis.com'")

    tfds.load = no_network
    from tfib.bin import train
    sys.argv = ["tfib-train"] + sys.argv[1:]
    train.run()
""")


def test_no_network_for_a_download_is_a_clean_error(tmp_path):
  result = subprocess.run(
      [sys.executable, "-c", NO_NETWORK, "--dataset=cifar10", f"--data_dir={tmp_path}",
       f"--logdir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=600)
  assert result.returncode == 1
  assert "tfib-train: error: Could not load 'cifar10'" in result.stderr
  assert "runs offline: mnist5k" in result.stderr
  assert "Traceback" not in result.stderr
