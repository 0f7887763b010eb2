"""The op library loader: path selection, the environment switch, one warning on failure."""
import warnings

import numpy as np
import pytest
import tensorflow as tf

import tfib.ops
from tfib.ops import loader


@pytest.fixture
def fresh_loader(monkeypatch):
  """A loader that has not tried to load yet, with the reference path not forced."""
  monkeypatch.setattr(loader, "_STATE", loader._LoadState())  # pylint: disable=protected-access
  monkeypatch.delenv(loader.REFERENCE_ENV_VAR, raising=False)
  return loader


def _load_twice_and_use(fresh_loader):
  """Calls the loader twice and runs an op; returns the warnings raised."""
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert fresh_loader.op_library() is None
    assert fresh_loader.op_library() is None
    assert fresh_loader.active_path() == loader.REFERENCE
    result = tfib.ops.code_entropies(np.array([[0], [1]], np.uint8), [0, 1])
  assert float(result.h_t) == pytest.approx(1.0)
  return [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_missing_library_warns_once_and_falls_back(fresh_loader, monkeypatch):
  monkeypatch.setattr(fresh_loader, "_find_library", lambda: None)
  caught = _load_twice_and_use(fresh_loader)
  assert len(caught) == 1
  assert "op library (_tfib_ops*.so) is not in" in str(caught[0].message)
  assert "pure-TensorFlow reference" in str(caught[0].message)
  assert "is not in" in fresh_loader.load_error()


def test_library_failing_to_load_warns_once_and_falls_back(fresh_loader, monkeypatch):
  def load_op_library(path):
    raise tf.errors.NotFoundError(None, None, f"{path}: undefined symbol: _ZN10tensorflow")

  monkeypatch.setattr(fresh_loader, "_find_library", lambda: "/somewhere/_tfib_ops.so")
  monkeypatch.setattr(tf, "load_op_library", load_op_library)
  caught = _load_twice_and_use(fresh_loader)
  assert len(caught) == 1
  message = str(caught[0].message)
  assert f"failed to load into TensorFlow {tf.__version__}" in message
  assert "undefined symbol" in message
  assert "reinstall tfib" in message


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_environment_forces_reference_at_call_time(monkeypatch, value):
  monkeypatch.setenv(loader.REFERENCE_ENV_VAR, value)
  assert tfib.ops.active_path() == loader.REFERENCE


@pytest.mark.parametrize("value", ["0", "", "false"])
def test_environment_values_that_do_not_force_reference(monkeypatch, value):
  monkeypatch.setenv(loader.REFERENCE_ENV_VAR, value)
  assert not loader.reference_forced()

