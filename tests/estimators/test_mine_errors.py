"""Bad input to the MINE family gives a clear error or a stopped run, never a silent number."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib import estimators
from tfib.estimators import critic_training
from tfib.estimators import variational_bounds

SMALL = dict(hidden_units=(8,), batch_size=32, max_steps=20, eval_every=10, patience=2)


def _pairs(num=400, dim=2, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(num, dim)).astype(np.float32)
  return x, x + rng.normal(size=(num, dim)).astype(np.float32)


def test_different_sample_counts():
  x, z = _pairs()
  with pytest.raises(ValueError, match="400 samples of x and 399 of z"):
    estimators.get("mine", **SMALL).estimate_pair(x, z[:399])


@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_fewer_samples_than_a_batch(name):
  x, z = _pairs(num=50)
  with pytest.raises(ValueError, match="Too few samples: 50 samples.*batch of 32"):
    estimators.get(name, **SMALL).estimate_pair(x, z)


@pytest.mark.parametrize("bad, where", [(np.nan, "x samples"), (np.inf, "z samples")])
def test_non_finite_values(bad, where):
  x, z = _pairs()
  (x if where == "x samples" else z)[7, 1] = bad
  kind = "NaN" if np.isnan(bad) else "Inf"
  with pytest.raises(ValueError, match=f"{where} contain 1 non-finite values \\({kind} first "
                                       "at sample 7, unit 1\\)"):
    estimators.get("mine", **SMALL).estimate_pair(x, z)


def test_non_finite_activations_of_a_layer():
  t, _ = _pairs()
  t[3, 0] = np.nan
  with pytest.raises(ValueError, match="activations contain 1 non-finite"):
    estimators.get("infonce", **SMALL).estimate(t, np.zeros(400, int))


def test_layer_count_mismatches():
  t, _ = _pairs()
  with pytest.raises(ValueError, match="label count mismatch: 399 labels for 400"):
    estimators.get("mine", **SMALL).estimate(t, np.zeros(399, int))
  with pytest.raises(ValueError, match="input count mismatch: 10 inputs for 400"):
    estimators.get("mine", **SMALL).estimate(t, inputs=np.zeros((10, 3)))


class WideCritic(keras.Model):
  """Returns three scores per pair: the wrong shape."""

  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(3)

  def call(self, inputs):
    return self.dense(tf.concat(inputs, axis=-1))


class BadMatrixCritic(keras.Model):
  """Right pair scores, but a score matrix of the wrong shape."""

  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(1)

  def call(self, inputs):
    return self.dense(tf.concat(inputs, axis=-1))

  def score_matrix(self, x, z):
    return tf.zeros([tf.shape(x)[0], 2])


def test_critic_returning_the_wrong_shape():
  x, z = _pairs()
  with pytest.raises(ValueError, match=r"critic returned scores of shape \(4, 3\) for a batch "
                                       r"of 4 .* \[4\] or \[4, 1\]"):
    estimators.get("mine", critic=WideCritic(), **SMALL).estimate_pair(x, z)
  with pytest.raises(ValueError, match=r"score_matrix returned shape \(4, 2\) for a batch of 4"):
    estimators.get("infonce", critic=BadMatrixCritic(), **SMALL).estimate_pair(x, z)


class ExplodingCritic(keras.Model):
  """Scores of 1e30: e^f overflows, so the loss is not finite at the first step."""

  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="ones")

  def call(self, inputs):
    return 1e30 * tf.abs(self.dense(tf.concat(inputs, axis=-1)))


@pytest.mark.parametrize("name", ["mine_f", "nwj"])
def test_diverging_training_stops_with_the_reason(name):
  x, z = _pairs()
  estimator = estimators.get(name, critic=ExplodingCritic(), **SMALL)
  with pytest.raises(critic_training.TrainingDiverged,
                     match=f"{name} training diverged at step 1: the loss is (inf|nan)") as info:
    estimator.fit_pair(x, z)
  assert info.value.step == 1 and info.value.history == ()
  assert isinstance(info.value, FloatingPointError)
  # An estimate is a result that says so, with no number (a layer's callback goes on).
  result = estimators.get(name, critic=ExplodingCritic(), **SMALL).estimate_pair(x, z)
  assert result.failed and result.i_xt is None and result.extras["i_xt_ci"] is None
  assert "training diverged at step 1" in result.flags["i_xt_diverged"]


def test_bad_parameters():
  with pytest.raises(ValueError, match="Unknown critic 'bilinear'"):
    estimators.get("mine", critic="bilinear")
  with pytest.raises(ValueError, match="noise_std must be > 0"):
    estimators.get("mine", noise_std=0.0)
  with pytest.raises(ValueError, match="tail must be > 0"):
    estimators.get("infonce", tail=-1.0)
  with pytest.raises(ValueError, match="ci_level must lie in"):
    estimators.get("infonce", ci_level=1.0)
  with pytest.raises(ValueError, match="weight_decay must be >= 0"):
    estimators.get("infonce", weight_decay=-1.0)
  with pytest.raises(ValueError, match="Bad estimator spec.*Unknown parameter 'colour' for "
                                       "estimator 'mine'; its parameters are: ema_rate"):
    estimators.from_spec("mine:colour=red")
  with pytest.raises(ValueError, match="held_out_fraction must lie in"):
    estimators.get("mine", **dict(SMALL, held_out_fraction=1.0)).estimate_pair(*_pairs())
  with pytest.raises(ValueError, match="pass a callable"):
    estimators.get("mine", critic=WideCritic(), **SMALL).estimate(_pairs()[0])
  trainer = critic_training.CriticTrainer(variational_bounds.MINE(), WideCritic(), 32)
  with pytest.raises(ValueError, match="max_steps must be >= 1"):
    trainer.fit(*_pairs(), max_steps=0)
