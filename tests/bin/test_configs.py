"""Every flagfile in configs/ is accepted by its program."""
import glob
import os
import subprocess
import sys

from absl import flags
import pytest

from tfib.bin import infoplane
from tfib.models import presets

CONFIGS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "configs",
                                        "*.cfg")))
PROGRAMS = {"train_": "tfib.bin.train", "mine_": "tfib.bin.mine"}


def _program(path):
  name = os.path.basename(path)
  return next((module for prefix, module in PROGRAMS.items() if name.startswith(prefix)),
              "tfib.bin.infoplane")


@pytest.mark.parametrize(
    "path", [p for p in CONFIGS if _program(p) == "tfib.bin.infoplane"], ids=os.path.basename)
def test_infoplane_flagfiles_build_a_valid_experiment(path):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["tfib-infoplane", f"--flagfile={path}"])
  try:
    config = infoplane._config()  # pylint: disable=protected-access
  finally:
    flags.FLAGS.unparse_flags()
  assert config.model in presets.names() and config.epochs > 0 and config.estimators


@pytest.mark.parametrize(
    "path", [p for p in CONFIGS if _program(p) != "tfib.bin.infoplane"], ids=os.path.basename)
def test_other_flagfiles_parse_in_their_program(path):
  # In a subprocess, so that each program defines its flags alone: absl raises on an
  # unknown flag name or a bad value.
  code = (f"import {_program(path)}; from absl import flags; "
          f"flags.FLAGS(['program', '--flagfile={path}']); print('parsed')")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 0 and "parsed" in result.stdout, result.stderr[-2000:]
