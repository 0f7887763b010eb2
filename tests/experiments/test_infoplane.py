"""tfib-infoplane's experiment: seeds, restarts, the aggregate, and runs killed anywhere."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfib.experiments import infoplane
from tfib.infoplane.aggregate import mean_records
from tfib.runs import event_files, read_records

TINY = infoplane.ExperimentConfig(epochs=3, schedule="every", every=1,
                                  estimators=("exact:bits=32",), checkpoint_every=1)
LAYERS = ("h1", "h2", "h3", "h4", "h5", "output")


def _records(logdir, seed):
  return read_records(os.path.join(logdir, f"seed_{seed}", "results.jsonl"))


def test_repeats_write_one_run_per_seed_and_their_mean(tmp_path):
  config = infoplane.ExperimentConfig(epochs=3, schedule="every", every=1, seed=5,
                                      estimators=("exact:bits=32",), checkpoint_every=1)
  result = infoplane.run(config, str(tmp_path), repeats=2, log=lambda _: 0)
  assert [e["seed"] for e in result["kept"]] == [5, 6]
  runs = [_records(tmp_path, s) for s in (5, 6)]
  mean = read_records(str(tmp_path / "aggregate" / "results.jsonl"))
  assert len(mean) == len(runs[0]) == 4 * len(LAYERS)  # Epochs 0, 1, 2, 3.
  first = {(r["layer"], r["epoch"]): r["i_xt"] for r in runs[0]}
  second = {(r["layer"], r["epoch"]): r["i_xt"] for r in runs[1]}
  for record in mean:
    key = (record["layer"], record["epoch"])
    assert record["i_xt"] == pytest.approx((first[key] + second[key]) / 2)
    assert record["i_xt_std"] == pytest.approx(np.std([first[key], second[key]], ddof=1))
  assert os.path.exists(result["aggregate"]["exact"])
  # Training curves and MI share one writer: one event file per seed's run.
  assert len(glob.glob(str(tmp_path / "seed_5" / "events.out.tfevents.*"))) == 1


def test_more_repeats_later_recompute_the_aggregate(tmp_path):
  infoplane.run(TINY, str(tmp_path), repeats=2, log=lambda _: 0)
  result = infoplane.run(TINY, str(tmp_path), repeats=3, log=lambda _: 0)
  assert [e["seed"] for e in result["kept"]] == [0, 1, 2]
  mean = read_records(str(tmp_path / "aggregate" / "results.jsonl"))
  seeds = [{(r["layer"], r["epoch"]): r["i_xt"] for r in _records(tmp_path, s)}
           for s in range(3)]
  for record in mean:
    key = (record["layer"], record["epoch"])
    assert record["num_runs"] == 3
    assert record["i_xt"] == pytest.approx(np.mean([s[key] for s in seeds]))
  scalars = event_files.read_scalars(str(tmp_path / "aggregate"))
  (tag,) = [t for t in scalars if t == "mi/exact/h3/I_XT"]
  assert dict(scalars[tag]) == pytest.approx(
      {epoch: np.mean([s[("h3", epoch)] for s in seeds]) for epoch in range(4)})


def test_seeds_that_do_not_learn_are_discarded_and_reported(tmp_path):
  config = infoplane.ExperimentConfig(epochs=1, learning_rate=1e-9, estimators=(),
                                      min_accuracy=0.99)
  with pytest.raises(RuntimeError, match="3 seeds did not reach training accuracy 0.99"):
    infoplane.run(config, str(tmp_path), repeats=1, max_restarts=2, log=lambda _: 0)
  seeds = read_records(str(tmp_path / "seeds.jsonl"))
  assert [(r["seed"], r["kept"]) for r in seeds] == [(0, False), (1, False), (2, False)]


def test_mean_records_keep_only_points_of_every_run():
  a = [{"estimator_label": "b", "layer": "h1", "epoch": e, "i_xt": 1.0 * e, "i_ty": 0.5}
       for e in (0, 1)]
  b = [{"estimator_label": "b", "layer": "h1", "epoch": 0, "i_xt": 3.0, "i_ty": 0.7}]
  (merged,) = mean_records([a, b])
  assert merged["epoch"] == 0 and merged["i_xt"] == 1.5 and merged["num_runs"] == 2
  assert merged["i_ty_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))


COMMAND = [sys.executable, "-m", "tfib.bin.infoplane", "--repeats=2", "--epochs=24",
           "--schedule=every", "--every=4", "--checkpoint_every=5", "--estimator=binning",
           "--estimator=exact:bits=32"]


def _infoplane(logdir, crash="", *flags):
  env = dict(os.environ, TFIB_CRASH_AT=crash)
  return subprocess.run(COMMAND + [f"--logdir={logdir}", *flags], env=env,
                        capture_output=True, text=True, timeout=600)


def _points(run_dir):
  scalars = event_files.read_scalars(run_dir)
  for tag, points in scalars.items():
    assert len({step for step, _ in points}) == len(points), f"{tag} written twice"
  return {tag: sorted(points) for tag, points in scalars.items()}


def test_killed_anywhere_and_resumed_it_is_the_uninterrupted_run(tmp_path):
  whole = _infoplane(tmp_path / "whole")
  assert whole.returncode == 0, whole.stderr[-3000:]
  killed = tmp_path / "killed"
  for crash in ("commit:3",               # during training, seed 0
                "information_plane:40",   # while MI is recorded
                "committed:2",            # just after a resume state was written
                "seed_decided:1",         # between the seeds
                "seed_trained:1"):        # seed 1 trained, its summary not yet written
    result = _infoplane(killed, crash)
    assert result.returncode == -9, (crash, result.stderr[-3000:])
  finished = _infoplane(killed)
  assert finished.returncode == 0, finished.stderr[-3000:]
  for seed in (0, 1):
    ours, theirs = (str(d / f"seed_{seed}") for d in (killed, tmp_path / "whole"))
    assert read_records(f"{ours}/results.jsonl") == read_records(f"{theirs}/results.jsonl")
    assert _points(ours) == _points(theirs)
    assert {step for step, _ in _points(ours)["training/loss"]} == set(range(1, 25))
    summaries = [json.loads(open(f"{d}/summary.json").read()) for d in (ours, theirs)]
    assert summaries[0]["train_accuracy"] == summaries[1]["train_accuracy"]
  assert read_records(str(killed / "aggregate" / "results.jsonl")) == read_records(
      str(tmp_path / "whole" / "aggregate" / "results.jsonl"))
  assert [r["seed"] for r in read_records(str(killed / "seeds.jsonl"))] == [0, 1]


def test_a_seed_resumed_after_its_last_state_is_judged_by_its_real_accuracy(tmp_path):
  logdir = tmp_path / "run"
  flags = ["--repeats=1", "--min_accuracy=0.99", "--max_restarts=0"]
  assert _infoplane(logdir, "seed_trained:1", *flags).returncode == -9
  result = _infoplane(logdir, "", *flags)
  assert result.returncode != 0
  assert "1 seeds did not reach training accuracy 0.99" in result.stderr
  (seed,) = read_records(str(logdir / "seeds.jsonl"))
  assert not seed["kept"] and 0.4 < seed["train_accuracy"] < 0.99
