"""Binning estimators against scikit-learn's mutual_info_score on independently made codes."""
import math

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score
from sklearn.preprocessing import KBinsDiscretizer

from tfib import estimators


def _row_ids(values):
  return np.unique(np.asarray(values), axis=0, return_inverse=True)[1].ravel()


def _sklearn_bits(a, b):
  return mutual_info_score(a, b) / math.log(2)


def _idnns_digitized(activations, num_bins):
  # The IDNNs code: bins = linspace(-1, 1, num_of_bins); bins[digitize(a, bins) - 1].
  bins = np.linspace(-1, 1, num_bins, dtype="float32")
  flat = activations.reshape(1, -1).squeeze()
  return bins[np.digitize(flat, bins) - 1].reshape(len(activations), -1)


@pytest.fixture
def tanh_layer():
  rng = np.random.default_rng(0)
  return np.tanh(rng.normal(size=(4096, 5)) * 1.5).astype(np.float32), rng.integers(0, 2, 4096)


@pytest.mark.parametrize("num_bins", [2, 10, 30, 100])
def test_idnns_scheme_matches_their_formula_and_sklearn(ops_path, tanh_layer, num_bins):
  activations, labels = tanh_layer
  estimate = estimators.get("binning", num_bins=num_bins).estimate(activations, labels)
  t = _row_ids(_idnns_digitized(activations, num_bins))
  x = np.arange(len(activations))  # Distinct inputs.
  assert estimate.i_xt == pytest.approx(_sklearn_bits(x, t), abs=1e-9)
  assert estimate.i_ty == pytest.approx(_sklearn_bits(labels, t), abs=1e-9)
  assert estimate.unit == "bits" and estimate.num_samples == 4096
  assert estimate.log2_n == 12 and estimate.h_y == pytest.approx(_sklearn_bits(labels, labels))
  assert estimate.distinct_fraction == pytest.approx(len(np.unique(t)) / 4096)


def test_idnns_out_of_range_values_share_the_top_bin(ops_path):
  # Their indexing wraps a < -1 around to the last bin, together with a >= 1.
  binning = estimators.get("binning", num_bins=5)
  codes = binning.codes(np.array([[-3.0], [-1.0], [0.99], [1.0], [7.0]]))
  np.testing.assert_array_equal(codes.ravel(), [4, 0, 3, 4, 4])
  np.testing.assert_array_equal(
      _row_ids(_idnns_digitized(np.array([[-3.0], [1.0], [7.0]], np.float32), 5)), [0, 0, 0])


def test_saxe_scheme_is_floor_of_value_over_bin_size(ops_path):
  rng = np.random.default_rng(1)
  activations = rng.normal(size=(2000, 4)) * 3  # Unbounded, like ReLU layers.
  labels = rng.integers(0, 10, 2000)
  estimate = estimators.get("binning", scheme="saxe", bin_size=0.5).estimate(activations, labels)
  t = _row_ids(np.floor(activations / 0.5))
  assert estimate.i_xt == pytest.approx(_sklearn_bits(np.arange(2000), t), abs=1e-9)
  assert estimate.i_ty == pytest.approx(_sklearn_bits(labels, t), abs=1e-9)


@pytest.mark.parametrize("per_neuron", [False, True])
def test_adaptive_scheme_matches_sklearn_uniform_bins(ops_path, per_neuron):
  rng = np.random.default_rng(2)
  activations = np.maximum(rng.normal(size=(3000, 3)) * [1, 5, 20], 0)  # ReLU-like ranges.
  labels = rng.integers(0, 3, 3000)
  binning = estimators.get("binning", scheme="adaptive", num_bins=12, per_neuron=per_neuron)
  if per_neuron:
    reference = KBinsDiscretizer(12, encode="ordinal", strategy="uniform")
    codes = reference.fit_transform(activations)
  else:
    low, high = activations.min(), activations.max()
    reference = KBinsDiscretizer(12, encode="ordinal", strategy="uniform")
    column = reference.fit_transform(np.r_[activations.reshape(-1, 1), [[low], [high]]])
    codes = column[:-2].reshape(activations.shape)
  np.testing.assert_array_equal(binning.codes(activations), codes)
  estimate = binning.estimate(activations, labels)
  assert estimate.i_ty == pytest.approx(_sklearn_bits(labels, _row_ids(codes)), abs=1e-9)


def test_repeated_inputs_use_h_t_minus_h_t_given_x(ops_path):
  # A noisy layer: the same input can give different codes, so I(X;T) < H(T).
  rng = np.random.default_rng(3)
  inputs = rng.integers(0, 50, size=(5000, 1)).astype(np.float32)
  activations = np.tanh(inputs / 25 - 1 + rng.normal(scale=0.05, size=(5000, 2)))
  estimate = estimators.get("binning", num_bins=20).estimate(activations, None, inputs)
  t = _row_ids(_idnns_digitized(activations.astype(np.float32), 20))
  assert estimate.i_xt == pytest.approx(_sklearn_bits(inputs.ravel(), t), abs=1e-9)
  assert estimate.i_ty is None and estimate.h_y is None


def test_more_bins_never_lose_information(ops_path, tanh_layer):
  activations, labels = tanh_layer
  values = [estimators.get("binning", num_bins=k).estimate(activations, labels).i_xt
            for k in (3, 5, 9, 17, 33)]  # Each edge set refines the previous one.
  assert values == sorted(values)
  assert values[-1] <= 12.0


@pytest.mark.parametrize("bad, error, match", [
    (np.array([[0.1, np.nan]]), ValueError, "non-finite.*NaN"),
    (np.array([[0.1], [np.inf]]), ValueError, "non-finite.*Inf"),
    (np.zeros((0, 4)), ValueError, "empty"),
])
def test_bad_activations(bad, error, match):
  with pytest.raises(error, match=match):
    estimators.get("binning").estimate(bad, None)


def test_label_count_mismatch():
  with pytest.raises(ValueError, match="label count mismatch: 3 labels for 4 samples"):
    estimators.get("binning").estimate(np.zeros((4, 2)), np.array([0, 1, 0]))


def test_bad_parameters():
  with pytest.raises(ValueError, match="Unknown binning scheme 'quantile'"):
    estimators.get("binning", scheme="quantile")
  with pytest.raises(ValueError, match="num_bins must be at least 2"):
    estimators.get("binning", num_bins=1)
  with pytest.raises(ValueError, match="per_neuron"):
    estimators.get("binning", scheme="idnns", per_neuron=True)
