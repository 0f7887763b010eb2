"""A failed neural estimate says so: flags and reasons instead of absurd or bare numbers.

The cases of the issue that asked for them: independent variables (a bound a little below
zero read as "no information" was reported as a negative MI), a learning rate of 10
(−3.6e10 bits with status "ok"), heavy-tailed Student-t pairs (MINE −331 nats, SMILE
+4,375 nats, InfoNCE −71 nats on 1–2 degrees of freedom), a fit stopped while rising.
"""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib import estimators
from tfib.data import gaussian_tasks
from tfib.data import ground_truth

NEURAL = ["infonce", "mine", "mine_f", "nwj", "smile"]


@pytest.mark.parametrize("name", ["infonce", "mine"])
def test_independent_variables_are_not_above_noise(name):
  x, z = gaussian_tasks.correlated_gaussians(5000, 5, 0.0, seed=4)
  result = estimators.get(name).estimate_pair(x, z)
  assert result.failed and "i_xt_not_above_noise" in result.flags, result.flags
  assert "not significantly above zero" in result.flags["i_xt_not_above_noise"]
  low, high = result.extras["i_xt_ci"]
  assert low <= 0 and abs(result.i_xt) < 0.05  # A held-out bound near 0, never reported bare.


def test_a_huge_learning_rate_diverges_without_a_number():
  x, z = gaussian_tasks.correlated_gaussians(4000, 20, gaussian_tasks.rho_for_mi(2.0, 20), 0)
  result = estimators.get("mine", learning_rate=10.0, max_steps=300).estimate_pair(x, z)
  assert result.failed and result.i_xt is None and result.extras["i_xt_ci"] is None
  assert "i_xt_diverged" in result.flags and "blown up" in result.flags["i_xt_diverged"]


@pytest.mark.parametrize("name", NEURAL)
def test_cauchy_pairs_give_a_sane_number_or_a_flag(name):
  """Student-t with 1 degree of freedom (Cauchy margins), true MI 0.22 nats.

  The standardisation (median, IQR, logarithmic tails) keeps the critic's scores bounded;
  on the suite's run (N = 5,000, seed 0) InfoNCE came within 0.02 nats of 0.224 and MINE
  within 0.07, NWJ (the least stable of the five, its e^(f−1) term) within 0.16. Allowed:
  within 0.15 nats (0.2 for NWJ), or a failed estimate with its reasons (its
  number kept for diagnosis only) — and in either case no absurd number: never outside
  [−1, log B] nats (before: −331 to +4,375).
  """
  task = ground_truth.get("student-t-1x1-dof1")
  x, z = task.sample(5000, seed=0)
  result = estimators.get(name).estimate_pair(x, z)
  if result.i_xt is not None:
    nats = result.i_xt * math.log(2)
    assert -1.0 <= nats <= math.log(256), (nats, result.flags)
  if result.failed:
    assert result.flags and all(reason for reason in result.flags.values())
  else:
    tolerance = 0.2 if name == "nwj" else 0.15
    assert abs(result.i_xt * math.log(2) - task.mi_nats) <= tolerance, result.extras["i_xt_ci"]


def test_stopped_while_rising_is_not_converged():
  x, z = gaussian_tasks.correlated_gaussians(5000, 5, gaussian_tasks.rho_for_mi(1.5, 5), 1)
  result = estimators.get("infonce", learning_rate=5e-5, max_steps=500,
                          eval_every=25).estimate_pair(x, z)
  assert result.failed and "i_xt_not_converged" in result.flags, result.extras
  assert "still rising" in result.flags["i_xt_not_converged"]


def test_a_saturated_infonce_is_a_caveat_not_a_failure():
  x, z = gaussian_tasks.correlated_gaussians(
      4000, 5, gaussian_tasks.rho_for_mi(10.0, 5), seed=3)
  # A two-layer critic: it reaches the ceiling within 600 steps (the default three layers
  # are still creeping up to it there, which is flagged as not converged). The held-out
  # batch is the training batch: all 800 held-out rows would lift the ceiling to log 800.
  result = estimators.get("infonce", hidden_units="128x128", weight_decay=1.0, batch_size=32,
                          eval_batch_size=32, learning_rate=3e-3, max_steps=600, eval_every=25,
                          patience=100).estimate_pair(x, z)
  assert "i_xt_near_bound_ceiling" in result.flags and not result.failed
  assert result.i_xt <= math.log2(32) + 1e-6


class ExplodingCritic(keras.Model):
  """Scores of 1e30: e^f overflows at the first step."""

  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="ones")

  def call(self, inputs):
    return 1e30 * tf.abs(self.dense(tf.concat(inputs, axis=-1)))


def test_a_diverged_layer_estimate_is_a_failed_record_not_an_exception():
  """The InformationPlane callback records it (under mi_failed/) and training goes on."""
  activations = np.random.default_rng(0).normal(size=(512, 3)).astype(np.float32)
  result = estimators.get("mine_f", critic=ExplodingCritic, hidden_units=(8,), batch_size=32,
                          max_steps=20, eval_every=10, patience=2).estimate(
                              activations, np.arange(512) % 2)
  assert result.failed and result.i_xt is None and result.i_ty is None
  assert {"i_xt_diverged", "i_ty_diverged"} <= set(result.flags)
  assert result.extras["i_xt_ci"] is None and result.extras["i_ty_ci"] is None
