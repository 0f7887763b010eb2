"""Probes on frozen representations: the held-out lower bound on I(H;Y) (bits)."""
import numpy as np
import pytest
import scipy.stats

from tfib.estimators.probes import probe_features, probe_information


def _labels(n, seed=0):
  return np.random.default_rng(seed).integers(0, 4, n)


@pytest.mark.parametrize("hidden", [(), (32,)])
def test_one_hot_labels_as_h_give_about_h_y(hidden):
  y = _labels(2000)
  h = np.eye(4, dtype=np.float32)[y]
  estimate = probe_information(h[:1500], y[:1500], h[1500:], y[1500:], hidden_units=hidden)
  h_y = scipy.stats.entropy(np.bincount(y[:1500]), base=2)
  assert estimate.h_y == pytest.approx(h_y, abs=1e-12)
  assert estimate.i_hy <= estimate.h_y
  assert estimate.i_hy == pytest.approx(h_y, rel=0.01)


def test_noise_gives_no_more_than_its_error():
  y = _labels(3000, seed=1)
  h = np.random.default_rng(2).normal(size=(3000, 8)).astype(np.float32)
  for hidden in ((), (32,)):
    estimate = probe_information(h[:2000], y[:2000], h[2000:], y[2000:], hidden_units=hidden)
    assert estimate.i_hy <= 2 * estimate.standard_error
    assert estimate.i_hy <= estimate.h_y


def test_large_maps_are_pooled_and_say_so():
  maps = np.random.default_rng(0).normal(size=(10, 32, 32, 16)).astype(np.float32)
  features, how = probe_features(maps, max_features=4096)
  assert features.shape == (10, 16 * 16 * 16) and how == "h average-pooled 2x2 to 16x16x16"
  np.testing.assert_allclose(features.reshape(10, 16, 16, 16)[0, 0, 0],
                             maps[0, :2, :2].mean(axis=(0, 1)), rtol=1e-6)
  small, how = probe_features(maps[:, :4, :4])
  assert small.shape == (10, 256) and how == "h flattened (256 values)"


def test_bad_input():
  y = _labels(100)
  with pytest.raises(ValueError, match="label count mismatch"):
    probe_information(np.zeros((100, 2)), y, np.zeros((10, 2)), y[:9])
  with pytest.raises(ValueError, match="non-finite"):
    probe_information(np.full((100, 2), np.nan), y, np.zeros((10, 2)), y[:10])
  with pytest.raises(ValueError, match="classes the training labels do not"):
    probe_information(np.zeros((100, 2)), y % 2, np.zeros((10, 2)), np.full(10, 3))
