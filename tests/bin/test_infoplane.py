"""tfib-infoplane end to end, as a user runs it."""
import json
import os
import subprocess
import sys

import pytest

from tfib.runs import read_records


def _run(*flags):
  return subprocess.run([sys.executable, "-m", "tfib.bin.infoplane", *flags],
                        capture_output=True, text=True, timeout=600)


def test_short_run_writes_logs_results_and_pngs(tmp_path):
  logdir = str(tmp_path / "run")
  result = _run("--epochs=12", "--schedule=every", "--every=4", f"--logdir={logdir}",
                "--estimator=binning", "--estimator=binning:scheme=adaptive,num_bins=256")
  assert result.returncode == 0, result.stderr[-3000:]
  seed_dir = os.path.join(logdir, "seed_0")
  assert f"information plane: {seed_dir}/infoplane_binning_idnns_30.png" in result.stdout
  assert f"results file: {seed_dir}/results.jsonl" in result.stdout
  assert f"tensorboard --logdir {logdir}" in result.stdout
  records = read_records(os.path.join(seed_dir, "results.jsonl"))
  assert {r["epoch"] for r in records} == {0, 4, 8, 12}
  assert len(records) == 4 * 6 * 2
  assert os.path.exists(os.path.join(seed_dir, "infoplane_binning_adaptive_256_False.png"))
  with open(os.path.join(seed_dir, "summary.json")) as stream:
    summary = json.load(stream)
  assert summary["seconds_information_plane"] > 0
  assert any(name.startswith("events.out.tfevents") for name in os.listdir(seed_dir))


@pytest.mark.parametrize("flag, message", [
    ("--dataset=imagenet", "Unknown dataset 'imagenet'"),
    ("--dataset=mnist5k", "has inputs of shape (28, 28, 1), but model 'szt-tanh' takes (12,)"),
    ("--model=mnist-conv", "has inputs of shape (12,), but model 'mnist-conv' takes (28, 28, 1)"),
    ("--bits=16", "--bits"),
    ("--estimator=kraskov", "Unknown estimator 'kraskov'"),
    ("--epochs=0", "--epochs=0: 0 is not a positive integer"),
    ("--learning_rate=0", "--learning_rate must be positive"),
    ("--estimator=exact:bits=8", "exact:bits=8 counts 8-bit layers, but the network has "
                                 "--bits=32 (float)"),
])
def test_bad_flags_are_usage_errors(tmp_path, flag, message):
  result = _run(flag, f"--logdir={tmp_path}")
  assert result.returncode != 0
  assert message in result.stderr
