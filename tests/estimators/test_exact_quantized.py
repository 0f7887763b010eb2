import math

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from tfib import estimators


def _bits(a, b):
  return mutual_info_score(a, b) / math.log(2)


def _row_ids(values):
  return np.unique(values, axis=0, return_inverse=True)[1].ravel()


@pytest.mark.parametrize("bits", [4, 8])
def test_values_on_the_grid_are_counted_exactly(ops_path, bits):
  # A layer that already lives on 2^bits levels between its min and max (as a fake-quantized
  # layer does) is recovered level by level: I(T;Y) equals counting the raw values.
  rng = np.random.default_rng(bits)
  levels = 2 ** bits - 1
  grid = rng.integers(0, levels + 1, size=(3000, 3))
  grid[0], grid[1] = 0, levels  # The layer's min and max are grid ends.
  activations = (-0.7 + 1.9 * grid / levels).astype(np.float32)
  labels = rng.integers(0, 4, 3000)
  exact = estimators.get("exact", bits=bits)
  np.testing.assert_array_equal(exact.codes(activations), grid)
  estimate = exact.estimate(activations, labels)
  assert estimate.i_ty == pytest.approx(_bits(labels, _row_ids(activations)), abs=1e-9)
  assert estimate.i_xt == pytest.approx(_bits(np.arange(3000), _row_ids(activations)), abs=1e-9)


def test_32_bits_counts_distinct_float_values(ops_path):
  activations = np.array([[0.5], [0.5], [-0.0], [0.0], [1e-30], [2.0]], np.float32)
  estimate = estimators.get("exact", bits=32).estimate(activations, np.array([0, 0, 1, 1, 0, 1]))
  assert estimate.distinct_fraction == pytest.approx(4 / 6)
  assert estimate.i_xt == pytest.approx(_bits(np.arange(6), [0, 0, 1, 1, 2, 3]), abs=1e-9)


def test_constant_layer_carries_no_information(ops_path):
  estimate = estimators.get("exact").estimate(np.full((100, 4), 0.3), np.arange(100) % 2)
  assert estimate.i_xt == 0 and estimate.i_ty == 0


def test_levels_the_layer_does_not_reach_are_still_counted_exactly(ops_path):
  # A moving-average quantizer's grid can be wider than what one evaluation reaches, and
  # some levels in between may be missing: the values are counted as they are.
  rng = np.random.default_rng(1)
  grid = rng.choice([3, 4, 9, 12], size=(2000, 2))
  activations = (0.25 * grid - 1.0).astype(np.float32)
  labels = rng.integers(0, 3, 2000)
  estimate = estimators.get("exact", bits=4).estimate(activations, labels)
  assert estimate.i_ty == pytest.approx(_bits(labels, _row_ids(activations)), abs=1e-9)


def test_a_float_layer_is_refused_with_the_binning_to_use_instead():
  activations = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)
  with pytest.raises(ValueError, match=r"exact:bits=8 counts a layer quantized to at most 256 "
                                       r"values.*'binning:scheme=adaptive,num_bins=256'"):
    estimators.get("exact", bits=8).estimate(activations)
  few = np.array([[0.0], [0.37], [1.2], [0.37]] * 50, np.float32)  # Few values, no grid.
  assert estimators.get("exact", bits=4).estimate(few).i_xt == pytest.approx(1.5)


@pytest.mark.parametrize("bits, message", [(0, "must be one of 4, 8, 32"),
                                           (5, "must be one of 4, 8, 32"),
                                           (16, "must be one of 4, 8, 32"),
                                           (2.5, "must be an integer"),
                                           (True, "must be an integer")])
def test_unsupported_bits(bits, message):
  with pytest.raises(ValueError, match=message):
    estimators.get("exact", bits=bits)
