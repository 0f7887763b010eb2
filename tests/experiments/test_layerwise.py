"""tfib-layerwise as a user runs it: a killed run resumes to the uninterrupted one, a finished
run is not trained again, a sweep can grow by a β, another configuration is refused, and
the results hold what the issue asks for (both accuracies, per-layer MI, times)."""
import json
import os
import signal
import subprocess
import sys

import pytest
import tensorflow as tf

from tfib.runs import read_records

TINY = ["--dataset=mnist5k", "--max_train_examples=1000", "--max_eval_examples=200",
        "--layers=dense32,dense16", "--epochs=4", "--batch_size=25", "--measure_samples=200",
        "--beta=0,0.01"]


def _layerwise(logdir, *flags, crash=""):
  return subprocess.run([sys.executable, "-m", "tfib.bin.layerwise", f"--logdir={logdir}",
                         *TINY, *flags], env=dict(os.environ, TFIB_CRASH_AT=crash),
                        capture_output=True, text=True, timeout=600)


def _summary(logdir):
  with open(os.path.join(logdir, "summary", "summary.json")) as stream:
    summary = json.load(stream)
  for result in [summary["end_to_end"], *summary["layerwise"].values()]:
    result.pop("train_seconds")
  return summary


def _events(directory):
  """{tag: [(step, plugin), ...]} of the event files in ``directory``."""
  found = {}
  for name in sorted(os.listdir(directory)):
    if name.startswith("events.out.tfevents"):
      for event in tf.compat.v1.train.summary_iterator(os.path.join(directory, name)):
        for value in event.summary.value:
          found.setdefault(value.tag, []).append(
              (event.step, value.metadata.plugin_data.plugin_name))
  return found


def _epochs(logdir, run):
  return [{k: v for k, v in r.items() if k != "seconds"}
          for r in read_records(os.path.join(logdir, run, "epochs.jsonl"))]


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
  logdir = tmp_path_factory.mktemp("whole")
  result = _layerwise(logdir)
  assert result.returncode == 0, result.stderr[-3000:]
  return logdir, result


def test_the_run_reports_both_accuracies_per_layer_mi_and_times(whole):
  logdir, result = whole
  summary = json.loads((logdir / "summary" / "summary.json").read_text())
  assert summary["betas"] == [0.0, 0.01]
  for regime in [summary["end_to_end"], *summary["layerwise"].values()]:
    assert regime["status"] == "done" and 0.3 < regime["test_accuracy"] <= 1.0
    assert regime["train_seconds"] > 0
    assert [layer["layer"] for layer in regime["layers"]] == ["layer_1", "layer_2"]
    for layer in regime["layers"]:
      assert 0 <= layer["i_xt_lower"] <= layer["i_xt"] <= layer["log2_n"] + 1e-9
      assert layer["i_ty"] <= layer["h_y"] + 1e-9
  best = summary["layerwise"][f"beta_{summary['best_beta']:g}"]["test_accuracy"]
  assert summary["gap_points"] == pytest.approx(
      100 * (summary["end_to_end"]["test_accuracy"] - best))
  assert "| end to end (cross-entropy) |" in result.stdout and "gap" in result.stdout
  assert (logdir / "summary" / "layerwise.png").stat().st_size > 10000
  curves = read_records(str(logdir / "beta_0.01" / "epochs.jsonl"))
  assert [r["step"] for r in curves] == list(range(1, 9))  # 4 epochs for each layer.
  assert [r["layer"] for r in curves] == ["layer_1"] * 4 + ["layer_2"] * 4
  curves = _events(logdir / "beta_0.01")  # The objective's terms, per layer and epoch.
  for term in ("loss", "I_TY_bound", "I_XT_lower", "I_XT_upper"):
    assert [step for step, _ in curves[f"layerwise/layer_2/{term}"]] == [5, 6, 7, 8]
  assert [step for step, _ in curves["mi/kde/layer_1/I_XT"]] == [4]  # Its layer's last epoch.
  assert [step for step, _ in curves["mi_ceiling/kde/I_XT"]] == [4, 8]
  shown = _events(logdir / "summary")
  assert [p for _, p in shown["layerwise/comparison"]] == ["text"]
  assert [p for _, p in shown["layerwise/figure"]] == ["images"]
  assert any(p == "hparams" for tag in _events(logdir / "summary" / "beta_0.01")
             for _, p in _events(logdir / "summary" / "beta_0.01")[tag])
  lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
  assert "epoch 8/8 (100%)" in lines[-1]


def test_a_killed_run_resumes_to_the_uninterrupted_run(whole, tmp_path):
  logdir, _ = whole
  killed = _layerwise(tmp_path, crash="layerwise_epoch:10")  # β = 0, layer 2, epoch 2.
  assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
  assert (tmp_path / "end_to_end" / "result.json").exists()
  assert not (tmp_path / "beta_0" / "result.json").exists()
  finished = _layerwise(tmp_path)
  assert finished.returncode == 0, finished.stderr[-3000:]
  assert "end to end (cross-entropy): training" not in finished.stderr  # Not trained twice.
  assert _summary(tmp_path) == _summary(logdir)
  for run in ("end_to_end", "beta_0", "beta_0.01"):
    assert _epochs(tmp_path, run) == _epochs(logdir, run)


def test_a_finished_run_is_kept_a_sweep_grows_and_another_setting_is_refused(whole, tmp_path):
  logdir, _ = whole
  before = _summary(logdir)
  grown = _layerwise(logdir, "--beta=0,0.01,0.1")
  assert grown.returncode == 0, grown.stderr[-3000:]
  assert "beta = 0.1: training" in grown.stderr
  assert "beta = 0: training" not in grown.stderr and "beta = 0.01: training" not in grown.stderr
  after = _summary(logdir)
  assert after["end_to_end"] == before["end_to_end"]
  assert {k: after["layerwise"][k] for k in before["layerwise"]} == before["layerwise"]
  refused = _layerwise(logdir, "--noise_std=0.3")
  assert refused.returncode == 1 and "noise_std" in refused.stderr
  assert "Traceback" not in refused.stderr
  bad = _layerwise(tmp_path / "bad", "--beta=0,-1")
  assert bad.returncode == 1 and "beta must be >= 0" in bad.stderr


def test_the_table_says_when_i_xt_is_pinned_at_log2_n():
  from tfib.experiments.layerwise import comparison_table  # pylint: disable=g-import-not-at-top
  log2_n = 9.965784284662087  # 1,000 held-out inputs.
  layers = [{"layer": "layer_1", "i_xt": log2_n - 0.004, "log2_n": log2_n, "i_ty": 3.2},
            {"layer": "layer_2", "i_xt": 7.93, "log2_n": log2_n, "i_ty": 3.1}]
  regime = {"status": "done", "test_accuracy": 0.95, "train_seconds": 3.0, "layers": layers}
  table = comparison_table({"end_to_end": regime,
                            "layerwise": {"beta_0.01": dict(regime, beta=0.01)}})
  pinned = [row for row in table.splitlines() if "layer_1" in row]
  free = [row for row in table.splitlines() if "layer_2" in row]
  assert len(pinned) == 2 and all("at log2 N = 9.966" in row for row in pinned)
  assert len(free) == 2 and not any("log2 N" in row for row in free)
