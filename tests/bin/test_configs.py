"""Every flagfile in configs/ is accepted by its program."""
import glob
import os

from absl import flags
import pytest

from tfib.bin import infoplane
from tfib.models import presets

CONFIGS = os.path.join(os.path.dirname(__file__), "..", "..", "configs")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIGS, "*.cfg"))),
                         ids=os.path.basename)
def test_infoplane_flagfiles_parse(path):
  if not any(line.startswith("--model=") or line.startswith("--activation=")
             for line in open(path)):
    pytest.skip("not a tfib-infoplane flagfile")
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["tfib-infoplane", f"--flagfile={path}"])
  try:
    config = infoplane._config()  # pylint: disable=protected-access
  finally:
    flags.FLAGS.unparse_flags()
  assert config.model in presets.names() and config.epochs > 0 and config.estimators
