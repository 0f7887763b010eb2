"""The discretized logistic mixture against a float64 numpy reference of its formula."""
import itertools

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit, logsumexp

from tfib.distributions import discretized_logistic_mixture as dlm


def reference_log_prob(values, params, channels, mix, low, high):
  """Salimans et al. 2017 eq. 2-3 in float64, written out directly (sigma differences)."""
  params = params.astype(np.float64)
  nc = channels * (channels - 1) // 2
  logits = params[..., :mix]
  locs = params[..., mix:mix + mix * channels].reshape(*params.shape[:-1], mix, channels)
  log_s = params[..., mix + mix * channels:mix + 2 * mix * channels].reshape(
      *params.shape[:-1], mix, channels)
  log_s = np.maximum(log_s, -7.0)
  coeffs = np.tanh(params[..., mix + 2 * mix * channels:].reshape(*params.shape[:-1], mix, nc))
  x = 2.0 * (values.astype(np.float64) - low) / (high - low) - 1.0
  delta = 1.0 / (high - low)
  log_mix = logits - logsumexp(logits, axis=-1, keepdims=True)
  total = log_mix.copy()
  k = 0
  means = locs.copy()
  for c in range(1, channels):
    for j in range(c):
      means[..., c] += coeffs[..., k] * x[..., None, j]
      k += 1
  for c in range(channels):
    v = values[..., None, c]
    s = np.exp(log_s[..., c])
    cdf_plus = expit((x[..., None, c] - means[..., c] + delta) / s)
    cdf_minus = expit((x[..., None, c] - means[..., c] - delta) / s)
    p = np.where(v == low, cdf_plus, np.where(v == high, 1.0 - cdf_minus, cdf_plus - cdf_minus))
    total = total + np.log(p)
  return logsumexp(total, axis=-1)


@pytest.mark.parametrize("channels,mix,low,high", [(1, 3, 0, 255), (3, 4, 0, 255), (2, 2, -3, 4)])
def test_matches_float64_reference_including_edge_bins(channels, mix, low, high):
  rng = np.random.default_rng(channels)
  n = 400
  values = rng.integers(low, high + 1, (n, channels)).astype(np.float32)
  values[:50] = low  # Both edge bins, and mixed edges across channels.
  values[50:100] = high
  values[100:150, 0] = low
  values[150:200, -1] = high
  p = dlm.num_params(channels, mix)
  params = rng.normal(0.0, 1.0, (n, p)).astype(np.float32)
  # Log-scales over the clipped range and beyond, so -7 clipping is exercised.
  start = mix + mix * channels
  params[:, start:start + mix * channels] = rng.uniform(-8.0, 1.0, (n, mix * channels))
  # Half the locations near the values, so that moderate probabilities are well represented.
  unit = 2.0 * (values - low) / (high - low) - 1.0
  params[::2, mix:start] = (np.repeat(unit[::2, None, :], mix, 1).reshape(-1, mix * channels)
                            + rng.normal(0, 0.05, (len(unit[::2]), mix * channels)))
  got = dlm.log_prob(tf.constant(values), tf.constant(params), channels, mix, low, high).numpy()
  want = reference_log_prob(values, params, channels, mix, low, high)
  # Below ~e^-25 the float64 sigma difference itself cancels (both sigmas near 1); tfib's
  # form does not, so the far tails are checked separately.
  finite = np.isfinite(want) & (want > -25)
  assert finite.sum() >= 100
  np.testing.assert_allclose(got[finite], want[finite], rtol=2e-4, atol=2e-4)
  assert np.all(np.isfinite(got))


def test_tails_are_finite_where_naive_difference_underflows():
  # A very sharp component far from the value: the naive sigma difference is 0 in float32.
  params = tf.constant([[0.0, 0.9, -7.0]])  # logit, loc (near the top), log-scale -7.
  value = tf.constant([[10.0]])
  logp = dlm.log_prob(value, params, 1, 1, 0, 255).numpy()
  assert np.isfinite(logp).all() and logp[0] < -100


def test_probabilities_of_all_values_of_a_pixel_sum_to_one():
  rng = np.random.default_rng(0)
  channels, mix, low, high = 2, 3, 0, 9
  params = tf.constant(rng.normal(0, 1, (1, dlm.num_params(channels, mix))), tf.float32)
  grid = np.array(list(itertools.product(range(low, high + 1), repeat=channels)), np.float32)
  logp = dlm.log_prob(tf.constant(grid), tf.repeat(params, len(grid), 0), channels, mix, low,
                      high)
  assert np.exp(logp.numpy().astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)


def test_samples_follow_the_probabilities():
  rng = np.random.default_rng(1)
  channels, mix, low, high = 1, 2, 0, 4
  params = tf.constant(rng.normal(0, 1, (1, dlm.num_params(channels, mix))), tf.float32)
  n = 20000
  draws = dlm.sample(tf.repeat(params, n, 0), channels, mix, low, high,
                     tf.constant([1, 2])).numpy()[:, 0]
  assert set(np.unique(draws)) <= set(range(low, high + 1))
  levels = np.arange(low, high + 1, dtype=np.float32)[:, None]
  probs = np.exp(dlm.log_prob(levels, tf.repeat(params, len(levels), 0), channels, mix, low,
                              high).numpy())
  freq = np.bincount(draws.astype(int) - low, minlength=len(levels)) / n
  np.testing.assert_allclose(freq, probs, atol=0.015)


def test_wrong_parameter_count_is_refused():
  with pytest.raises(ValueError, match="parameters per pixel"):
    dlm.log_prob(tf.zeros([2, 1]), tf.zeros([2, 7]), 1, 2, 0, 255)
