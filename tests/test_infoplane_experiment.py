"""Repeated runs, restarts of runs that do not learn, aggregation, and resuming a killed run."""
import collections
import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tfib import infoplane_experiment
from tfib.aggregate import mean_records
from tfib.results import read_records

TINY = infoplane_experiment.ExperimentConfig(
    epochs=3, schedule="every", every=1, estimators=("exact:bits=8",), checkpoint_every=1)


def test_repeats_write_one_directory_per_seed_and_their_mean(tmp_path):
  manifest = infoplane_experiment.run(TINY, str(tmp_path), seed=5, repeats=2, log=lambda _: 0)
  assert [e["seed"] for e in manifest["kept"]] == [5, 6]
  runs = [read_records(str(tmp_path / f"seed_{s}" / "results.jsonl")) for s in (5, 6)]
  mean = read_records(str(tmp_path / "aggregate" / "results.jsonl"))
  assert len(mean) == len(runs[0]) == 3 * 6  # Epochs 0, 1, 2 of 3.
  first = {(r["layer"], r["epoch"]): r["i_xt"] for r in runs[0]}
  second = {(r["layer"], r["epoch"]): r["i_xt"] for r in runs[1]}
  for record in mean:
    key = (record["layer"], record["epoch"])
    assert record["i_xt"] == pytest.approx((first[key] + second[key]) / 2)
    assert record["i_xt_std"] == pytest.approx(np.std([first[key], second[key]], ddof=1))
  assert os.path.exists(manifest["aggregate"]["exact"])
  # Training curves and MI share one writer: one event file per run directory.
  assert len(glob.glob(str(tmp_path / "seed_5" / "events.out.tfevents.*"))) == 1


def test_seeds_that_do_not_learn_are_discarded_and_reported(tmp_path):
  config = infoplane_experiment.ExperimentConfig(epochs=1, learning_rate=1e-9, estimators=())
  with pytest.raises(RuntimeError, match="3 seeds did not reach training accuracy 0.99"):
    infoplane_experiment.run(config, str(tmp_path), repeats=1, min_accuracy=0.99,
                             max_restarts=2, log=lambda _: 0)
  manifest = json.loads((tmp_path / "repeats.json").read_text())
  assert [e["seed"] for e in manifest["discarded"]] == [0, 1, 2] and not manifest["kept"]


def test_mean_records_keep_only_points_of_every_run():
  a = [{"estimator_label": "b", "layer": "h1", "epoch": e, "i_xt": 1.0 * e, "i_ty": 0.5}
       for e in (0, 1)]
  b = [{"estimator_label": "b", "layer": "h1", "epoch": 0, "i_xt": 3.0, "i_ty": 0.7}]
  (merged,) = mean_records([a, b])
  assert merged["epoch"] == 0 and merged["i_xt"] == 1.5 and merged["num_runs"] == 2
  assert merged["i_ty_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))


def _event_points(directory):
  counts = collections.Counter()
  for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        counts[(value.tag, event.step)] += 1
  return counts


def test_a_killed_run_resumes_at_its_seed_and_epoch_without_duplicates(tmp_path):
  logdir = tmp_path / "run"
  command = [sys.executable, "-m", "tfib.bin.infoplane", f"--logdir={logdir}", "--repeats=2",
             "--epochs=240", "--schedule=every", "--every=20", "--checkpoint_every=15",
             "--estimator=exact:bits=8"]
  process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  state = logdir / "seed_1" / "checkpoint" / "state.json"
  deadline = time.time() + 400
  while time.time() < deadline and process.poll() is None:
    if state.exists() and json.loads(state.read_text())["epoch"] >= 30:
      break
    time.sleep(0.2)
  assert process.poll() is None, "the run ended before it could be killed"
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not (logdir / "seed_1" / "summary.json").exists()

  finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
  assert finished.returncode == 0, finished.stderr[-3000:]
  summaries = [json.loads((logdir / f"seed_{s}" / "summary.json").read_text()) for s in (0, 1)]
  assert summaries[0]["resumed_at_epoch"] == 0 and summaries[1]["resumed_at_epoch"] >= 30
  for seed in (0, 1):
    directory = str(logdir / f"seed_{seed}")
    records = read_records(os.path.join(directory, "results.jsonl"))
    keys = [(r["layer"], r["epoch"]) for r in records]
    expected_epochs = list(range(0, 240, 20)) + [239]
    assert sorted(keys) == sorted((layer, e) for layer in
                                  ("h1", "h2", "h3", "h4", "h5", "output")
                                  for e in expected_epochs)
    points = _event_points(directory)
    assert max(points.values()) == 1, [p for p, n in points.items() if n > 1][:5]
    mi_points = {p for p in points if p[0].startswith("mi/")}
    assert mi_points == {(f"mi/exact/{layer}/{q}", e) for layer, e in keys
                         for q in ("I_XT", "I_TY")}
    assert {step for tag, step in points if tag == "training/loss"} == set(range(1, 241))
