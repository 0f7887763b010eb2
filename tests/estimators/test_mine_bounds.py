"""The variational bounds, critics and ground-truth tasks of the MINE family, in isolation."""
import math

import hypothesis
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import keras
import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from tfib.data import gaussian_tasks
from tfib.estimators import critics
from tfib.estimators import variational_bounds as vb


def _reference(joint, marginal):
  """The bounds in numpy/scipy, for joint [B] and marginal [M] scores."""
  joint, marginal = np.float64(joint), np.float64(marginal)
  return {
      "dv": joint.mean() - (scipy.special.logsumexp(marginal) - math.log(marginal.size)),
      "nwj": joint.mean() - np.exp(marginal - 1).mean(),
  }


def test_dv_and_nwj_match_numpy():
  rng = np.random.default_rng(0)
  joint, marginal = rng.normal(size=16), rng.normal(size=16) * 3
  reference = _reference(joint, marginal)
  assert float(vb.dv_bound(tf.constant(joint), tf.constant(marginal))) == pytest.approx(
      reference["dv"], rel=1e-6)
  assert float(vb.nwj_bound(tf.constant(joint), tf.constant(marginal))) == pytest.approx(
      reference["nwj"], rel=1e-6)


def test_masked_bounds_use_only_the_off_diagonal():
  rng = np.random.default_rng(1)
  scores = rng.normal(size=(6, 6))
  off = ~np.eye(6, dtype=bool)
  reference = _reference(np.diag(scores), scores[off])
  args = (tf.constant(np.diag(scores)), tf.constant(scores), tf.constant(off))
  assert float(vb.dv_bound(*args)) == pytest.approx(reference["dv"], rel=1e-6)
  assert float(vb.nwj_bound(*args)) == pytest.approx(reference["nwj"], rel=1e-6)
  clipped = _reference(np.diag(scores), np.clip(scores[off], -0.5, 0.5))["dv"]
  assert float(vb.smile_bound(*args[:2], 0.5, args[2])) == pytest.approx(clipped, rel=1e-6)


def test_infonce_matches_numpy_and_is_log_b_for_a_perfect_critic():
  rng = np.random.default_rng(2)
  scores = rng.normal(size=(8, 8))
  expected = (np.diag(scores) - scipy.special.logsumexp(scores, axis=1)).mean() + math.log(8)
  assert float(vb.infonce_bound(tf.constant(scores))) == pytest.approx(expected, rel=1e-6)
  perfect = 1e4 * np.eye(8)
  assert float(vb.infonce_bound(tf.constant(perfect))) == pytest.approx(math.log(8))


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(hnp.arrays(np.float64, st.tuples(st.integers(2, 12)).map(lambda s: s * 2),
                             elements=st.floats(-1e3, 1e3)))
def test_infonce_never_exceeds_log_batch(scores):
  assert float(vb.infonce_bound(tf.constant(scores))) <= math.log(scores.shape[0]) + 1e-9


def test_smile_with_a_large_clip_is_dv():
  rng = np.random.default_rng(3)
  joint, marginal = tf.constant(rng.normal(size=10)), tf.constant(rng.normal(size=10))
  assert float(vb.smile_bound(joint, marginal, 1e6)) == pytest.approx(
      float(vb.dv_bound(joint, marginal)))


def test_mine_gradient_uses_the_moving_average():
  """∂loss/∂f_marginal = e^f / (B·m) with m the moving average, not the batch mean."""
  bound = vb.MINE(ema_rate=0.5)
  joint = tf.constant([1.0, 2.0])
  first = tf.constant([0.0, 0.0])  # Batch mean of e^f = 1: the average starts there.
  bound.loss(joint, first)
  marginal = tf.Variable([1.0, 3.0])
  with tf.GradientTape() as tape:
    loss = bound.loss(joint, marginal)
  gradient = tape.gradient(loss, marginal).numpy()
  batch_mean = np.exp([1.0, 3.0]).mean()
  moving = 0.5 * 1.0 + 0.5 * batch_mean
  np.testing.assert_allclose(gradient, np.exp([1.0, 3.0]) / (2 * moving), rtol=1e-5)
  assert float(bound.value(joint, marginal)) == pytest.approx(
      _reference([1.0, 2.0], [1.0, 3.0])["dv"], rel=1e-6)
  bound.reset()
  assert not bool(bound._started.numpy())  # pylint: disable=protected-access


def test_mine_on_all_pairs_uses_the_off_diagonal():
  bound = vb.make_bound("mine", all_pairs=True)
  assert bound.all_pairs and bound.params == {"ema_rate": 0.01, "all_pairs": True}
  assert vb.make_bound("mine_f", all_pairs=True).all_pairs and not vb.MINEf().all_pairs
  scores = np.random.default_rng(6).normal(size=(5, 5))
  off = ~np.eye(5, dtype=bool)
  value = bound.value(tf.constant(np.diag(scores)), tf.constant(scores), tf.constant(off))
  assert float(value) == pytest.approx(_reference(np.diag(scores), scores[off])["dv"])


def test_smile_trains_with_the_js_gradient_but_reports_its_value():
  joint, marginal = tf.Variable([0.5, 1.5]), tf.Variable([0.2, -0.4])
  bound = vb.SMILE(clip=1.0)
  with tf.GradientTape(persistent=True) as tape:
    loss = bound.loss(joint, marginal)
    js = -vb.js_bound(joint, marginal)
  assert float(loss) == pytest.approx(-float(bound.value(joint, marginal)), rel=1e-6)
  for variable in (joint, marginal):
    np.testing.assert_allclose(tape.gradient(loss, variable), tape.gradient(js, variable))


def test_bound_registry_and_parameters():
  assert sorted(vb.BOUNDS) == ["infonce", "mine", "mine_f", "nwj", "smile"]
  assert vb.make_bound("infonce").ceiling(64) == pytest.approx(math.log(64))
  assert vb.make_bound("mine").ceiling(64) is None
  with pytest.raises(ValueError, match="Unknown bound 'dv'"):
    vb.make_bound("dv")
  with pytest.raises(ValueError, match="ema_rate"):
    vb.make_bound("mine", ema_rate=0.0)
  with pytest.raises(ValueError, match="clip"):
    vb.make_bound("smile", clip=-1.0)


# -- critics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["concat", "separable"])
def test_score_matrix_agrees_with_pairwise_calls(kind):
  critic = critics.make_critic(kind, (8,), embedding_dim=4, seed=0)
  rng = np.random.default_rng(4)
  x = tf.constant(rng.normal(size=(5, 3)), tf.float32)
  z = tf.constant(rng.normal(size=(5, 2)), tf.float32)
  matrix = critics.score_matrix(critic, x, z).numpy()
  assert matrix.shape == (5, 5)
  for i in range(5):
    row = critics.pair_scores(critic, tf.repeat(x[i:i + 1], 5, axis=0), z).numpy()
    np.testing.assert_allclose(matrix[i], row, rtol=1e-5, atol=1e-6)


def test_gaussian_channel_critic_adds_the_channel_log_density():
  base = critics.ConcatCritic((4,), seed=1)
  critic = critics.GaussianChannelCritic(base, noise_std=0.5)
  rng = np.random.default_rng(5)
  x = tf.constant(rng.normal(size=(4, 3)), tf.float32)
  z = tf.constant(rng.normal(size=(4, 3)), tf.float32)
  matrix = critics.score_matrix(critic, x, z).numpy()
  squared = ((x.numpy()[:, None, :] - z.numpy()[None, :, :]) ** 2).sum(-1)
  expected = critics.score_matrix(base, x, z).numpy() - squared / (2 * 0.25)
  np.testing.assert_allclose(matrix, expected, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(critics.pair_scores(critic, x, z).numpy(), np.diag(expected),
                             rtol=1e-4, atol=1e-4)


# Keras's own weight saving trips a numpy 2 deprecation warning; not ours.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_critics_round_trip_through_a_keras_file(tmp_path):
  x, z = tf.ones([2, 3]), tf.zeros([2, 2])
  for critic in (critics.ConcatCritic("6x5", seed=2),
                 critics.SeparableCritic((6,), embedding_dim=3, seed=3),
                 critics.GaussianChannelCritic(critics.ConcatCritic((4,), seed=4), 0.3)):
    zz = x if isinstance(critic, critics.GaussianChannelCritic) else z
    before = critic((x, zz)).numpy()
    path = str(tmp_path / f"{critic.name}.keras")
    critic.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(critic)
    np.testing.assert_allclose(restored((x, zz)).numpy(), before, rtol=1e-6)


def test_critic_arguments_are_checked():
  with pytest.raises(ValueError, match="Unknown critic 'bilinear'"):
    critics.make_critic("bilinear")
  with pytest.raises(ValueError, match="positive widths"):
    critics.ConcatCritic((0,))
  with pytest.raises(ValueError, match="noise_std"):
    critics.GaussianChannelCritic(critics.ConcatCritic((2,)), 0.0)
  assert critics.units("128x64") == (128, 64) and critics.units(7) == (7,)


# -- ground-truth tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("dim, rho", [(1, 0.5), (5, 0.3), (20, 0.9)])
def test_gaussian_task_mi_formula_and_samples(dim, rho):
  mi = gaussian_tasks.gaussian_mi(dim, rho)
  assert mi == pytest.approx(-0.5 * dim * math.log(1 - rho ** 2))
  assert gaussian_tasks.rho_for_mi(mi, dim) == pytest.approx(rho)
  x, z = gaussian_tasks.correlated_gaussians(20000, dim, rho, seed=0)
  assert x.shape == z.shape == (20000, dim) and x.dtype == np.float32
  correlations = [np.corrcoef(x[:, k], z[:, k])[0, 1] for k in range(dim)]
  np.testing.assert_allclose(correlations, rho, atol=0.03)
  # The Gaussian MI from the sample covariance (a plug-in check of the formula).
  joint = np.cov(np.concatenate([x, z], axis=1), rowvar=False)
  plug_in = 0.5 * (np.linalg.slogdet(joint[:dim, :dim])[1]
                   + np.linalg.slogdet(joint[dim:, dim:])[1] - np.linalg.slogdet(joint)[1])
  assert plug_in == pytest.approx(mi, abs=0.02 * dim + 0.02)


def test_staircase_and_argument_checks():
  steps = gaussian_tasks.staircase_mi(3)
  np.testing.assert_array_equal(steps, [2, 2, 2, 4, 4, 4, 6, 6, 6, 8, 8, 8, 10, 10, 10])
  with pytest.raises(ValueError, match="rho"):
    gaussian_tasks.correlated_gaussians(10, 2, 1.0)
  with pytest.raises(ValueError, match="dim"):
    gaussian_tasks.gaussian_mi(0, 0.5)
  with pytest.raises(ValueError, match="mi_nats"):
    gaussian_tasks.rho_for_mi(-1.0, 3)
