"""tfib-mine end to end: a run as a user starts it, then many flag sets in one process."""
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tfib.estimators import early_stopping

QUICK = ["--hidden_units=32x32", "--batch_size=128", "--max_steps=300", "--eval_every=50"]


def _scalars(logdir):
  """{tag: [(step, value), ...]} from the TF2 event files of ``logdir``."""
  points = {}
  for name in sorted(os.listdir(logdir)):
    if not name.startswith("events.out.tfevents"):
      continue
    for event in tf.compat.v1.train.summary_iterator(os.path.join(logdir, name)):
      for value in event.summary.value:
        if value.metadata.plugin_data.plugin_name == "scalars":
          points.setdefault(value.tag, []).append(
              (event.step, float(tf.make_ndarray(value.tensor))))
  return points


def test_gaussian_task_run_prints_and_writes_results_and_curves(tmp_path):
  logdir = str(tmp_path / "run")
  result = subprocess.run(
      [sys.executable, "-m", "tfib.bin.mine", "--task=gaussian", "--dim=2", "--true_mi_bits=1.442695",
       "--num_samples=4000", f"--logdir={logdir}", *QUICK],
      capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "I(X;Z) = " in result.stdout and "bits, 90% CI [" in result.stdout
  assert "true I(X;Z) = 1.4427 bits" in result.stdout and "nats" not in result.stdout
  assert f"results: {logdir}/results.json" in result.stdout
  progress = [line for line in result.stderr.splitlines() if line.startswith("step ")]
  assert progress and progress[0].startswith("step 50/") and "held-out infonce bound" in progress[0]
  record = json.load(open(os.path.join(logdir, "results.json")))
  assert record["status"] == "ok" and record["unit"] == "bits" and not record["failed"]
  assert record["estimator"] == "infonce" and record["i_ty"] is None  # The default.
  assert abs(record["i_xt"] - 1 / math.log(2)) < 0.4
  low, high = record["extras"]["i_xt_ci"]
  assert low < record["i_xt"] < high and record["extras"]["ci_level"] == 0.9
  assert "training split" in record["extras"]["standardization"]
  assert record["extras"]["i_xt_spread_bits"] >= 0
  assert len(record["extras"]["i_xt_last_bits"]) == 5
  curves = _scalars(logdir)
  held_out = curves["mi/infonce/pair/I_XZ"]
  assert [step for step, _ in held_out] == [50, 100, 150, 200, 250, 300]
  assert held_out[-1][1] > held_out[0][1]  # The critic learns.
  assert {"mine/infonce/train_loss", "mine/infonce/train_bound_bits",
          "mi/infonce/pair/true_I_XZ"} <= set(curves)
  # The reported estimate and its interval, at the last step.
  assert curves["mi_estimate/infonce/pair/I_XZ"] == [(300, pytest.approx(record["i_xt"]))]
  assert curves["mi_ci/infonce/pair/I_XZ_low"] == [(300, pytest.approx(low))]
  assert curves["mi_ci/infonce/pair/I_XZ_high"] == [(300, pytest.approx(high))]


def test_a_killed_estimate_resumes_to_the_uninterrupted_result(tmp_path):
  flags = ["--task=gaussian", "--dim=2", "--true_mi_bits=1.442695", "--num_samples=4000",
           "--checkpoint_every=2", *QUICK]

  def mine(logdir, crash=""):
    return subprocess.run([sys.executable, "-m", "tfib.bin.mine", *flags, f"--logdir={logdir}"],
                          env=dict(os.environ, TFIB_CRASH_AT=crash), capture_output=True,
                          text=True, timeout=600)

  assert mine(tmp_path / "whole").returncode == 0
  assert mine(tmp_path / "killed", "commit:2").returncode == -9  # Saving step 200.
  resumed = mine(tmp_path / "killed")
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert "resuming the fit after step 100" in resumed.stderr
  whole, killed = (json.load(open(tmp_path / d / "results.json")) for d in ("whole", "killed"))
  whole.pop("seconds"), killed.pop("seconds")
  assert killed == whole
  assert _scalars(str(tmp_path / "killed")).keys() == _scalars(str(tmp_path / "whole")).keys()
  for tag, points in _scalars(str(tmp_path / "whole")).items():
    assert sorted(_scalars(str(tmp_path / "killed"))[tag]) == sorted(points), tag
  again = mine(tmp_path / "killed")  # Finished: the result again, no training.
  assert again.returncode == 0 and "I(X;Z) = " in again.stdout
  assert json.load(open(tmp_path / "killed" / "results.json"))["i_xt"] == whole["i_xt"]


def test_a_fit_killed_after_its_learning_rate_dropped_resumes_to_the_same_result(tmp_path):
  """Patience 1 makes the drop come early; the kill lands on the commit after it."""
  flags = ["--task=gaussian", "--dim=2", "--true_mi_bits=1.442695", "--num_samples=4000",
           "--checkpoint_every=1", "--patience=1", "--num_last=2", "--lr_drops=1",
           "--hidden_units=32x32", "--batch_size=128", "--max_steps=1500", "--eval_every=50"]

  def mine(logdir, crash=""):
    return subprocess.run([sys.executable, "-m", "tfib.bin.mine", *flags, f"--logdir={logdir}"],
                          env=dict(os.environ, TFIB_CRASH_AT=crash), capture_output=True,
                          text=True, timeout=600)

  assert mine(tmp_path / "whole").returncode == 0
  whole = json.load(open(tmp_path / "whole" / "results.json"))
  assert "learning rate dropped 1 times" in whole["extras"]["i_xt_stop_reason"]
  values = [v for _, v in whole["extras"]["i_xt_history_bits"]]
  drop = next(k for k in range(len(values)) if early_stopping.EarlyStopping.replay(
      values[:k + 1], patience=1, num_last=2, drops=1)[0].dropped)
  # Commit k + 1 saves evaluation k + 1 (k from 0); the kill is in the one after the drop.
  assert mine(tmp_path / "killed", f"commit:{drop + 2}").returncode == -9
  resumed = mine(tmp_path / "killed")
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert f"resuming the fit after step {50 * (drop + 1)}" in resumed.stderr
  killed = json.load(open(tmp_path / "killed" / "results.json"))
  whole.pop("seconds"), killed.pop("seconds")
  assert killed == whole


# One Python process runs main() for each flag set (one TensorFlow import for all), the way
# app.run would: flags parsed from argv, UsageError and the return code reported.
_DRIVER = textwrap.dedent("""
    import json, sys
    from absl import app, flags
    from tfib.bin import mine
    outcomes = []
    for argv in json.loads(sys.argv[1]):
      flags.FLAGS.unparse_flags()
      try:
        flags.FLAGS(["tfib-mine"] + argv)
        outcomes.append({"code": mine.main(["tfib-mine"])})
      except (app.UsageError, flags.Error) as error:
        outcomes.append({"usage_error": str(error)})
    print("OUTCOMES " + json.dumps(outcomes))
""")


def _run_many(argvs):
  result = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(argvs)],
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  line = next(l for l in result.stdout.splitlines() if l.startswith("OUTCOMES "))
  return json.loads(line[len("OUTCOMES "):]), result


def test_files_errors_and_divergence(tmp_path):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2000, 3)).astype(np.float32)
  z = x + rng.normal(size=(2000, 3)).astype(np.float32)
  np.save(tmp_path / "x.npy", x)
  np.savez(tmp_path / "data.npz", z=z, other=z[:, :1])
  np.save(tmp_path / "short.npy", z[:1999])
  bad = z.copy()
  bad[5, 2] = np.nan
  np.save(tmp_path / "nan.npy", bad)
  x_npy, npz, log = str(tmp_path / "x.npy"), str(tmp_path / "data.npz"), str(tmp_path / "log")
  cases = [
      # (argv, expected outcome)
      ([f"--x={x_npy}", f"--z={npz}:z", "--estimator=infonce", "--critic=concat",
        f"--logdir={tmp_path}/files"] + QUICK, {"code": 0}),
      ([f"--x={x_npy}", f"--z={npz}", f"--logdir={log}"], "holds arrays"),
      ([f"--x={x_npy}", f"--z={npz}:nope", f"--logdir={log}"], "has no array 'nope'"),
      ([f"--x={tmp_path}/missing.npy", f"--z={npz}:z"], "no such file"),
      ([f"--x={x_npy}"], "Give --x and --z"),
      (["--task=gaussian", "--dim=3"], "exactly one of --rho and --true_mi_bits"),
      (["--task=gaussian", "--rho=1.5"], "--rho must lie in (-1, 1)"),
      (["--task=gaussian", "--rho=0.5", f"--x={x_npy}"], "either --task or --x/--z"),
      (["--task=gaussian", "--rho=0.5", "--batch_size=0"], "--batch_size=0: 0 is not a positive"),
      (["--task=gaussian", "--rho=0.5", "--held_out_fraction=1"], "--held_out_fraction"),
      (["--task=gaussian", "--rho=0.5", "--hidden_units=0"], "positive widths"),
      (["--task=gaussian", "--rho=0.5", "--estimator=infonce", "--all_pairs"],
       "--all_pairs applies to mine and mine_f"),
      ([f"--x={x_npy}", f"--z={tmp_path}/short.npy", f"--logdir={log}_short"], {"code": 2}),
      ([f"--x={x_npy}", f"--z={tmp_path}/nan.npy", f"--logdir={log}_nan"], {"code": 2}),
      (["--task=gaussian", "--num_samples=100", f"--logdir={log}"], None),  # rho missing.
      (["--task=gaussian", "--dim=5", "--true_mi_bits=4.328085", "--estimator=nwj",
        "--learning_rate=0.5", "--hidden_units=64x64", "--batch_size=64",
        "--num_samples=4000", f"--logdir={tmp_path}/diverged"], {"code": 1}),
      # The run: a learning rate of 10 gave -3.6e10 bits with status "ok".
      (["--task=gaussian", "--dim=20", "--true_mi_bits=2.885390", "--estimator=mine",
        "--learning_rate=10", "--num_samples=4000", "--max_steps=300",
        f"--logdir={tmp_path}/lr10"], {"code": 1}),
      # Independent variables: no estimate, exit code 3, never a bare negative number.
      (["--task=gaussian", "--dim=2", "--rho=0", "--num_samples=4000",
        f"--logdir={tmp_path}/independent"] + QUICK, {"code": 3}),
      ([f"--x={x_npy}", f"--z={npz}:z", "--estimator=infonce", "--critic=separable",
        f"--logdir={tmp_path}/files"] + QUICK, "estimator.params.critic: 'concat' in the run"),
      (["--task=gaussian", "--rho=0.5", "--overwrite", "--force_resume"], "contradict"),
  ]
  outcomes, result = _run_many([argv for argv, _ in cases])
  for (argv, expected), outcome in zip(cases, outcomes):
    if isinstance(expected, dict):
      assert outcome == expected, (argv, outcome, result.stderr[-2000:])
    elif expected is not None:
      assert expected in outcome.get("usage_error", ""), (argv, outcome)
    else:
      assert "usage_error" in outcome, (argv, outcome)

  files = json.load(open(tmp_path / "files" / "results.json"))
  assert files["status"] == "ok" and files["estimator"] == "infonce"
  assert files["params"]["critic"] == "concat" and files["num_samples"] == 2000
  assert files["extras"]["i_xt_ceiling_bits"] == pytest.approx(7.0)
  assert "x and z must be paired samples: got 2000 samples of x and 1999 of z" in result.stderr
  assert "z samples contain 1 non-finite values (NaN first at sample 5, unit 2)" in result.stderr
  diverged = json.load(open(tmp_path / "diverged" / "results.json"))
  assert diverged["status"] == "diverged" and "diverged at step" in diverged["reason"]
  assert diverged["i_xt"] is None and diverged["failed"]  # No number for a diverged run.
  assert "tfib-mine: no estimate: nwj training diverged" in result.stderr
  lr10 = json.load(open(tmp_path / "lr10" / "results.json"))
  assert lr10["status"] == "diverged" and lr10["i_xt"] is None
  assert "i_xt_diverged" in lr10["flags"]
  independent = json.load(open(tmp_path / "independent" / "results.json"))
  assert independent["status"] == "failed" and independent["failed"]
  assert "i_xt_not_above_noise" in independent["flags"]
  assert "I(X;Z): no estimate, the fit failed its checks:" in result.stdout
  assert "not significantly above zero" in result.stdout
