"""Fixtures shared by all tfib tests."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
# ../shared beside the checkout holds reference data (the original SZT file, the MNIST test
# set). It is absent in a user's clone; CI always has it.
SHARED_DATA = pathlib.Path(os.environ.get("TFIB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data():
  """The reference-data directory; tests that need it skip where it is absent."""
  if not SHARED_DATA.is_dir():
    pytest.skip(f"reference data not found at {SHARED_DATA} (only CI and developers have it)")
  return SHARED_DATA


# Read once, before any test changes it: only the environment the tests were started in may
# excuse the kernel path from being tested.
def _reference_forced_by_environment():
  from tfib.ops import loader  # pylint: disable=g-import-not-at-top
  return loader.reference_forced()


_REFERENCE_FORCED = _reference_forced_by_environment()


@pytest.fixture(params=["kernel", "reference"])
def ops_path(request, monkeypatch):
  """Runs the test once on the compiled kernels and once on the pure-TF reference.

  The kernel run fails, rather than skips, when the op library did not load, unless the
  environment forces the reference path (TFIB_REFERENCE_OPS=1).
  """
  from tfib.ops import loader  # pylint: disable=g-import-not-at-top
  if request.param == loader.KERNEL:
    if _REFERENCE_FORCED:
      pytest.skip(f"{loader.REFERENCE_ENV_VAR} is set: only the reference path is tested.")
    monkeypatch.delenv(loader.REFERENCE_ENV_VAR, raising=False)
    if loader.op_library() is None:
      pytest.fail(f"The op library did not load: {loader.load_error()}")
  else:
    monkeypatch.setenv(loader.REFERENCE_ENV_VAR, "1")
  assert loader.active_path() == request.param
  return request.param
