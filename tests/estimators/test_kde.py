"""The KDE estimator against a float64 full-matrix implementation written here from the paper.

The reference follows Kolchinsky & Tracey (2017) literally: entropies of Gaussian mixtures
(with the noise entropy H(T|X) = d/2 ln(2πeσ²) kept in), pairwise squared distances by
direct differences (scipy's cdist, not the Gram-matrix formula the estimator uses), and
the class-conditional entropies from the sub-matrix of each class.
"""
import math

import hypothesis
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from tfib import estimators
from tfib.estimators import pairwise_logsumexp


def _mixture_entropy_nats(sq_distances, divergence_scale, noise_entropy):
  """Ĥ_D of an equal-weight mixture: H(T|X) − Σ_i (1/m) ln Σ_j (1/m) exp(−D_ij)."""
  m = len(sq_distances)
  return noise_entropy - np.mean(logsumexp(-divergence_scale * sq_distances, axis=1)
                                 - math.log(m))


def reference_bits(activations, labels, noise_variance):
  """{'upper': (I(X;T), I(T;Y)), 'lower': (...)} in bits, from the full N × N matrix."""
  h = np.asarray(activations, np.float64).reshape(len(activations), -1)
  d = h.shape[1]
  sq_distances = cdist(h, h, "sqeuclidean")
  noise_entropy = d / 2 * math.log(2 * math.pi * math.e * noise_variance)
  result = {}
  # KL(p_i‖p_j) = ‖Δ‖²/(2σ²) gives the upper bound, Bhattacharyya ‖Δ‖²/(8σ²) the lower.
  for name, scale in (("upper", 1 / (2 * noise_variance)), ("lower", 1 / (8 * noise_variance))):
    h_t = _mixture_entropy_nats(sq_distances, scale, noise_entropy)
    h_t_given_y = 0.0
    for label in np.unique(labels):
      members = np.flatnonzero(labels == label)
      h_t_given_y += len(members) / len(h) * _mixture_entropy_nats(
          sq_distances[np.ix_(members, members)], scale, noise_entropy)
    result[name] = ((h_t - noise_entropy) / math.log(2), (h_t - h_t_given_y) / math.log(2))
  return result


def _assert_matches_reference(estimate, activations, labels, noise_variance, tol=1e-5):
  expected = reference_bits(activations, labels, noise_variance)
  extras = estimate.extras
  got = {"upper": (extras["i_xt_upper"], extras["i_ty_upper"]),
         "lower": (extras["i_xt_lower"], extras["i_ty_lower"])}
  for name in ("upper", "lower"):
    np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=tol, err_msg=name)


def _clusters(rng, n, d, num_clusters, spread, offset):
  centres = rng.normal(size=(num_clusters, d)) * offset
  labels = rng.integers(0, num_clusters, n)
  return centres[labels] + rng.normal(size=(n, d)) * spread, labels


@pytest.mark.parametrize("n, d, noise_variance, tile_size", [
    (200, 4, 0.1, 1024),   # One tile.
    (333, 12, 0.5, 64),    # Six blocks, the last one padded.
    (130, 2, 0.02, 8),     # Many tiny tiles.
])
def test_matches_full_matrix_reference(n, d, noise_variance, tile_size):
  rng = np.random.default_rng(n)
  activations = np.tanh(rng.normal(size=(n, d))).astype(np.float32)
  labels = rng.integers(0, 3, n)
  estimate = estimators.get("kde", noise_variance=noise_variance,
                            tile_size=tile_size).estimate(activations, labels)
  _assert_matches_reference(estimate, activations, labels, noise_variance)
  # Neither saturated nor zero: the comparison is informative.
  assert 0.5 < estimate.i_xt < math.log2(n) - 0.5


def test_matches_reference_for_layers_far_from_the_origin():
  # ReLU-like clusters offset by ~30 per unit, spread 0.02: the Gram-matrix distance formula
  # in float32 is off here by a tenth of a bit; float64 distances must hold 1e-5.
  rng = np.random.default_rng(7)
  activations, labels = _clusters(rng, 300, 256, num_clusters=5, spread=0.02, offset=30.0)
  activations = np.maximum(activations, 0).astype(np.float32)
  estimate = estimators.get("kde", tile_size=128).estimate(activations, labels)
  _assert_matches_reference(estimate, activations, labels, 0.1)
  assert 0.5 < estimate.extras["i_xt_lower"] < estimate.i_xt < math.log2(300) - 0.5


def test_well_separated_clusters_give_log2_of_their_number():
  rng = np.random.default_rng(3)
  activations, labels = _clusters(rng, 512, 6, num_clusters=8, spread=1e-3, offset=10.0)
  estimate = estimators.get("kde", noise_variance=1e-2).estimate(activations, labels)
  h_y = estimate.h_y
  assert estimate.i_xt == pytest.approx(h_y, abs=1e-2)  # H(Y) ≈ log2 8 = H(cluster).
  assert estimate.extras["i_xt_lower"] == pytest.approx(h_y, abs=1e-2)
  assert estimate.extras["i_xt_lower"] <= estimate.i_xt
  assert estimate.i_ty == pytest.approx(h_y, abs=1e-6)
  assert estimate.extras["i_ty_lower"] == pytest.approx(h_y, abs=1e-6)
  assert h_y == pytest.approx(3.0, abs=0.01)


def test_noise_limits_and_ceilings():
  rng = np.random.default_rng(4)
  activations, labels = rng.normal(size=(256, 5)), rng.integers(0, 2, 256)
  tiny = estimators.get("kde", noise_variance=1e-6).estimate(activations, labels)
  assert tiny.extras["i_xt_lower"] == pytest.approx(tiny.log2_n, abs=1e-9) == 8.0
  assert tiny.i_ty == pytest.approx(tiny.h_y, abs=1e-9)
  huge = estimators.get("kde", noise_variance=1e6).estimate(activations, labels)
  assert huge.i_xt == pytest.approx(0.0, abs=1e-4) and huge.i_ty == pytest.approx(0.0, abs=1e-4)


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(
    activations=hnp.arrays(np.float64, (48, 3), elements=st.floats(-3, 3, width=32)),
    labels=hnp.arrays(np.int64, 48, elements=st.integers(0, 3)),
    log10_noise=st.floats(-3, 1))
def test_bounds_are_ordered_and_below_their_ceilings(activations, labels, log10_noise):
  estimate = estimators.get("kde", noise_variance=10.0**log10_noise).estimate(
      activations, labels)
  extras, slack = estimate.extras, 1e-9
  assert -slack <= extras["i_xt_lower"] <= extras["i_xt_upper"] + slack
  assert extras["i_xt_upper"] <= estimate.log2_n + slack
  for version in ("i_ty_upper", "i_ty_lower"):
    assert extras[version] <= estimate.h_y + slack


def test_result_record_and_registry_round_trip():
  rng = np.random.default_rng(5)
  activations, labels = rng.normal(size=(100, 3)), rng.integers(0, 4, 100)
  kde = estimators.from_spec("kde:noise_variance=0.25, tile_size=32")
  assert kde.name == "kde" and kde.params == {"noise_variance": 0.25, "tile_size": 32}
  assert estimators.get("kde").params == {"noise_variance": 0.1, "tile_size": 1024}
  estimate = kde.estimate(activations, np.eye(4)[labels])  # One-hot labels work too.
  assert estimate.estimator == "kde" and estimate.unit == "bits"
  assert estimate.params == kde.params and estimate.num_samples == 100
  assert estimate.i_xt == estimate.extras["i_xt_upper"]
  assert estimate.i_ty == estimate.extras["i_ty_upper"]
  assert estimate.extras["noise_variance"] == 0.25
  assert estimate.h_y == pytest.approx(
      -sum(p * math.log2(p) for p in np.bincount(labels) / 100 if p > 0))
  assert estimate.as_dict()["extras"]["i_xt_lower"] == estimate.extras["i_xt_lower"]

  without_labels = kde.estimate(activations)
  assert without_labels.i_xt == pytest.approx(estimate.i_xt, abs=1e-12)
  assert without_labels.i_ty is None and without_labels.h_y is None
  assert without_labels.extras["i_ty_lower"] is None


def test_invariant_to_tiling_order_translation_and_input_precision():
  rng = np.random.default_rng(6)
  activations, labels = rng.normal(size=(150, 4)), rng.integers(0, 3, 150)
  reference = estimators.get("kde", noise_variance=0.3).estimate(activations, labels)

  def same(estimate):
    for key in ("i_xt_upper", "i_xt_lower", "i_ty_upper", "i_ty_lower"):
      assert estimate.extras[key] == pytest.approx(reference.extras[key], abs=1e-9), key

  same(estimators.get("kde", noise_variance=0.3, tile_size=16).estimate(activations, labels))
  order = rng.permutation(150)
  same(estimators.get("kde", noise_variance=0.3).estimate(activations[order], labels[order]))
  same(estimators.get("kde", noise_variance=0.3).estimate(activations + 1e3, labels))
  # float32 activations are used as given, not rounded further by the centring.
  as_float32 = activations.astype(np.float32)
  reference = estimators.get("kde", noise_variance=0.3).estimate(
      as_float32.astype(np.float64), labels)
  same(estimators.get("kde", noise_variance=0.3).estimate(as_float32, labels))


def test_log_sums_with_any_scales_match_logsumexp():
  rng = np.random.default_rng(8)
  points, groups = rng.normal(size=(90, 3)), rng.integers(0, 2, 90)
  scales = (0.7, 0.2, 1.1)  # Unsorted; ratios that are not powers of two.
  got = pairwise_logsumexp.gaussian_log_sums(points, groups, scales, tile_size=32)
  sq_distances = cdist(points, points, "sqeuclidean")
  same_group = groups[:, None] == groups[None, :]
  for k, scale in enumerate(scales):
    np.testing.assert_allclose(got[:, k, 0], logsumexp(-scale * sq_distances, axis=1),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        got[:, k, 1], logsumexp(np.where(same_group, -scale * sq_distances, -np.inf), axis=1),
        rtol=0, atol=1e-6)


def test_a_single_sample_carries_no_information():
  estimate = estimators.get("kde").estimate(np.ones((1, 3), np.float32), [2])
  assert estimate.i_xt == 0.0 and estimate.extras["i_xt_lower"] == 0.0
  assert estimate.i_ty == 0.0 and estimate.h_y == 0.0


@pytest.mark.parametrize("noise_variance", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_noise_variance_is_refused(noise_variance):
  with pytest.raises(ValueError, match="noise_variance must be positive"):
    estimators.get("kde", noise_variance=noise_variance)


def test_bad_tile_size_is_refused():
  with pytest.raises(ValueError, match="tile_size"):
    estimators.get("kde", tile_size=0)


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_non_finite_activations_are_named(bad, kind):
  activations = np.zeros((20, 3), np.float32)
  activations[7, 1] = bad
  with pytest.raises(ValueError, match=f"non-finite.*{kind} first at sample 7, unit 1"):
    estimators.get("kde").estimate(activations, np.zeros(20, int))


def test_label_count_mismatch_and_empty_input_are_refused():
  kde = estimators.get("kde")
  with pytest.raises(ValueError, match="label count mismatch: 9 labels for 10 samples"):
    kde.estimate(np.zeros((10, 2)), np.zeros(9, int))
  with pytest.raises(ValueError, match="empty"):
    kde.estimate(np.zeros((0, 4)), np.zeros(0, int))
