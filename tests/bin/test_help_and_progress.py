"""What a user sees: --help shows the program and its own flags; long runs show progress."""
import os
import subprocess
import sys

import pytest

PROGRAMS = {
    "tfib-infoplane": ("information planes of the published networks", ["--epochs", "--logdir",
                                                                        "--estimator", "--seed"]),
    "tfib-train": ("a ResNet classifier or autoencoder", ["--epochs", "--logdir", "--strategy",
                                                          "--save_epochs"]),
    "tfib-mine": ("mutual information I(X;Z) between two arrays", ["--estimator", "--logdir",
                                                                   "--true_mi_bits"]),
    "tfib-sweep": ("Li & Liu's CNN sweeps", ["--grid", "--width", "--job", "--logdir"]),
    "tfib-decoder-mi": ("what information does a ResNet compress?", ["--run", "--layers",
                                                                     "--job", "--levels"]),
    "tfib-layerwise": ("layer-by-layer training with the IB Lagrangian", ["--beta", "--layers",
                                                                          "--noise_std",
                                                                          "--logdir"]),
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_help_shows_the_description_and_the_programs_own_flags(program):
  script = os.path.join(os.path.dirname(sys.executable), program)
  result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
  assert "Traceback" not in result.stderr, result.stderr[-2000:]  # (absl exits 1 after help.)
  description, own = PROGRAMS[program]
  assert description in result.stdout
  for flag in own:
    assert f"  {flag}:" in result.stdout, flag
  for foreign in ("--verbosity", "--logtostderr", "--tfib_infoplane", "--helpxml"):
    assert foreign not in result.stdout  # absl's and other modules' flags: --helpfull.


def test_a_long_run_shows_its_progress_in_a_log(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "tfib.bin.infoplane", "--epochs=30", "--schedule=every",
       "--every=10", f"--logdir={tmp_path}"], capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
  assert lines and lines[-1].startswith("epoch 30/30 (100%)")
  assert "s/epoch" in lines[-1] and "left" in lines[-1]
  assert "binning I(X;T)/I(T;Y): h1 " in lines[-1]  # The latest record of the plane.
  assert f"tensorboard --logdir {tmp_path}" in result.stdout
