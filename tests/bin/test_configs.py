"""Every flagfile in configs/ is accepted by its program."""
import glob
import json
import os
import subprocess
import sys

from absl import flags
import pytest

from tfib.bin import infoplane
from tfib.models import presets

CONFIGS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "configs",
                                        "*.cfg")))
PROGRAMS = {"train_": "tfib.bin.train", "mine_": "tfib.bin.mine", "li_liu_": "tfib.bin.sweep",
            "decoder_mi_": "tfib.bin.decoder_mi", "elad_": "tfib.bin.layerwise"}


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


# One subprocess per program, so that each defines its flags alone: absl raises on an
# unknown flag name or a bad value. Sweeps also build every grid point's network for
# 28x28x1 images and 10 classes (MNIST, Fashion-MNIST), which must fit.
_PARSE = """
import json, sys
from absl import flags
import {module} as program
for path in json.loads(sys.argv[1]):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["program", "--flagfile=" + path])
  if hasattr(program, "_sweep"):
    from tfib.experiments import sweep
    sweep.check(program._sweep(), (28, 28, 1), 10)
  print("parsed", path)
"""


@pytest.mark.parametrize("module", sorted(set(PROGRAMS.values())))
def test_other_flagfiles_parse_in_their_program(module):
  paths = [p for p in CONFIGS if _program(p) == module]
  assert paths
  result = subprocess.run([sys.executable, "-c", _PARSE.format(module=module),
                           json.dumps(paths)], capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.count("parsed ") == len(paths)


def test_read_flagfile_reads_as_absl_does(tmp_path):
  from tfib.bin import shared_flags  # pylint: disable=import-outside-toplevel
  inner = tmp_path / "inner.cfg"
  inner.write_text("--levels=16\n--layers=h1,h2\n")
  outer = tmp_path / "outer.cfg"
  outer.write_text(f"# a comment\n--flagfile={inner}\n--learning_rate=0.002\n--levels=4\n")
  assert shared_flags.read_flagfile(str(outer)) == {
      "levels": "4", "layers": "h1,h2", "learning_rate": "0.002"}
