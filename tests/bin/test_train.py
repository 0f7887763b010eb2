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
from tfib.training import event_files
from tfib.training.resnet_training import TrainConfig, train_resnet

QUICK = ["--width=2", "--depth=10", "--batch_size=32", "--max_train_examples=512",
         "--max_eval_examples=64", "--epochs=8", "--save_epochs=0,1,2,4"]
QUICK_CONFIG = TrainConfig(width=2, depth=10, batch_size=32, max_train_examples=512,
                           max_eval_examples=64, epochs=8, save_epochs="0,1,2,4")


def _command(*flags):
  return [sys.executable, "-m", "tfib.bin.train", *flags]


def _run(*flags, timeout=600):
  return subprocess.run(_command(*flags), capture_output=True, text=True, timeout=timeout)


def _last_epoch(run_dir):
  try:
    with open(os.path.join(run_dir, "manifest.json")) as stream:
      return json.load(stream)["last_epoch"]
  except (OSError, ValueError):
    return None


def test_a_run_killed_mid_training_resumes_without_losing_or_repeating_anything(tmp_path):
  run_dir = str(tmp_path / "run")
  flags = QUICK + [f"--run_dir={run_dir}"]
  with open(tmp_path / "first.log", "w") as log:
    process = subprocess.Popen(_command(*flags), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while (_last_epoch(run_dir) or 0) < 2 and process.poll() is None:
      assert time.monotonic() < deadline, "the first run made no progress"
      time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
  assert process.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()[-3000:]
  killed_at = _last_epoch(run_dir)
  assert 2 <= killed_at < 8, "the kill came too late to test anything"
  # The manifest is written just before the resume state: the kill may fall in between.

  result = _run(*flags)
  assert result.returncode == 0, result.stderr[-3000:]
  resumed_after = int(result.stdout.split("resumed after epoch ")[1].split()[0])
  assert killed_at - 1 <= resumed_after <= killed_at

  manifest = tfib.training.read_manifest(run_dir)
  assert manifest["finished"] and manifest["last_epoch"] == 8
  assert [e["epoch"] for e in manifest["history"]] == list(range(9))
  assert tfib.training.saved_epochs(run_dir) == [0, 1, 2, 4, 8]
  assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == [
      f"epoch_{k:04d}.keras" for k in (0, 1, 2, 4, 8)]
  for name, first in (("train", 1), ("eval", 0)):
    scalars = event_files.read_scalars(os.path.join(run_dir, "tensorboard", name))
    assert [step for step, _ in scalars["loss"]] == list(range(first, 9)), name
  assert not [name for _, _, files in os.walk(run_dir) for name in files
              if name.startswith(".tmp-")]

  # Same batches, same state: the resumed run is the uninterrupted run.
  reference = train_resnet(QUICK_CONFIG, str(tmp_path / "reference"))
  expected = tfib.training.read_manifest(reference.run_dir)["history"]
  for ours, theirs in zip(manifest["history"], expected):
    for name in ("train_loss", "eval_loss"):
      if name in theirs["metrics"]:
        np.testing.assert_allclose(ours["metrics"][name], theirs["metrics"][name], rtol=1e-4,
                                   err_msg=f"{name} at epoch {ours['epoch']}")
  x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
  np.testing.assert_allclose(tfib.training.load_checkpoint(run_dir, 8)(x, training=False),
                             tfib.training.load_checkpoint(reference.run_dir, 8)(x, training=False),
                             rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("flag, message", [
    ("--dataset=imagenet", "Unknown dataset 'imagenet'"),
    ("--mode=gan", "value should be one of <classifier|autoencoder>"),
    ("--epochs=0", "epochs must be positive"),
    ("--save_epochs=log:x", "Bad save_epochs spec"),
    ("--lr_decay_epochs=a,b", "--lr_decay_epochs takes numbers"),
])
def test_bad_flags_are_usage_errors(tmp_path, flag, message):
  result = _run(flag, f"--run_dir={tmp_path / 'run'}", timeout=120)
  assert result.returncode != 0
  assert message in result.stderr
  assert "Traceback" not in result.stderr
  assert not os.path.exists(tmp_path / "run")


def test_run_directories_of_other_configurations_or_programs_are_refused(tmp_path):
  run_dir = tmp_path / "run"
  run_dir.mkdir()
  manifest = {"format": "tfib-train-run/1", "config": QUICK_CONFIG.as_dict(),
              "checkpoints": [], "history": []}
  (run_dir / "manifest.json").write_text(json.dumps(manifest))
  result = _run(*QUICK, "--width=4", f"--run_dir={run_dir}", timeout=120)
  assert result.returncode != 0
  assert "width: 2 in the run, 4 now" in result.stderr and "--force_resume" in result.stderr
  (tmp_path / "notes").mkdir()
  (tmp_path / "notes" / "todo.txt").write_text("keep me")
  result = _run(*QUICK, f"--run_dir={tmp_path / 'notes'}", "--overwrite", timeout=120)
  assert result.returncode != 0 and "not a tfib-train run directory" in result.stderr
  assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
  result = _run("--overwrite", "--force_resume", f"--run_dir={run_dir}", timeout=120)
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
       f"--run_dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=600)
  assert result.returncode == 1
  assert "tfib-train: error: Could not load 'cifar10'" in result.stderr
  assert "runs offline: mnist5k" in result.stderr
  assert "Traceback" not in result.stderr
