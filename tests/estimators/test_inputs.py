"""Inputs a researcher meets in practice: each gives the right number or a clear error."""
import math

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from tfib import estimators

COUNTING = ["binning", "binning:scheme=saxe,bin_size=0.5", "binning:scheme=adaptive",
            "exact:bits=32"]


def _separated():
  """A layer that tells two classes apart exactly, and the two labels."""
  activations = np.repeat([[0.0], [1.0]], 50, axis=0).astype(np.float32)
  return activations, np.repeat([0, 2 ** 31], 50)


@pytest.mark.parametrize("spec", COUNTING + ["kde:noise_variance=0.001"])
def test_labels_beyond_int32_are_classes_of_their_own(spec):
  activations, labels = _separated()
  estimate = estimators.from_spec(spec).estimate(activations, labels)
  assert estimate.h_y == pytest.approx(1.0) and estimate.i_ty == pytest.approx(1.0, abs=1e-6)
  huge = estimators.from_spec(spec).estimate(activations, labels.astype(np.uint64) + 2 ** 63)
  assert huge.i_ty == pytest.approx(1.0, abs=1e-6)


def test_labels_are_counted_as_scikit_learn_counts_them():
  rng = np.random.default_rng(0)
  codes = rng.integers(0, 6, size=(400, 1))
  labels = rng.choice([-7, 3, 10 ** 12], size=400)
  estimate = estimators.get("exact", bits=32).estimate(codes.astype(np.float32), labels)
  assert estimate.i_ty == pytest.approx(mutual_info_score(labels, codes.ravel()) / math.log(2))


@pytest.mark.parametrize("spec", COUNTING + ["kde"])
def test_soft_probabilities_are_refused(spec):
  soft = np.array([[0.3, 0.7], [0.9, 0.1]] * 10)
  with pytest.raises(ValueError, match="must be one-hot rows"):
    estimators.from_spec(spec).estimate(np.random.default_rng(0).random((20, 2)), soft)
  one_hot = np.eye(2)[np.arange(20) % 2]
  assert estimators.from_spec(spec).estimate(np.eye(2)[np.arange(20) % 2], one_hot).i_ty > 0.5


def test_fractional_labels_are_refused():
  with pytest.raises(ValueError, match="not whole numbers"):
    estimators.get("binning").estimate(np.zeros((3, 1)), np.array([0.0, 0.5, 1.0]))


def test_the_wrong_number_of_inputs_is_refused_before_counting():
  activations = np.arange(4, dtype=np.float32)[:, None]
  for inputs in (np.arange(8.0), np.zeros((8, 3)), np.zeros((2, 2))):
    with pytest.raises(ValueError, match="input count mismatch: .* for 4 samples"):
      estimators.get("binning").estimate(activations, None, inputs)


@pytest.mark.parametrize("name, params, message", [
    ("binning", {"num_bins": 2.7}, "num_bins must be an integer, got 2.7"),
    ("binning", {"num_bins": True}, "num_bins must be an integer"),
    ("binning", {"scheme": "saxe", "bin_size": math.inf}, "bin_size must be positive and finite"),
    ("binning", {"scheme": "saxe", "bin_size": -1.0}, "bin_size must be positive"),
    ("exact", {"bits": 2.5}, "bits must be an integer, got 2.5"),
    ("exact", {"bits": 5}, "bits must be one of 4, 8, 32"),
])
def test_bad_parameters_are_clear_errors(name, params, message):
  with pytest.raises(ValueError, match=message):
    estimators.get(name, **params)


def test_saxe_bins_of_huge_values_are_refused_not_wrapped():
  with pytest.raises(ValueError, match="too large for this bin size"):
    estimators.get("binning", scheme="saxe", bin_size=1e-10).estimate(
        np.array([[1e10], [-1e10], [0.0]]))


def test_kde_states_its_channel_and_refuses_values_it_cannot_square():
  estimate = estimators.get("kde", noise_variance=0.25).estimate(*_separated())
  assert estimate.extras["channel"].startswith("T + N(0, sigma^2 I) with sigma = 0.5 (variance "
                                               "0.25)")
  with pytest.raises(ValueError, match="too large for the KDE"):
    estimators.get("kde").estimate(np.array([[1e200], [0.0]]))
