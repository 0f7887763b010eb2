"""fit_decoder: the prepare hook runs once, on a fresh fit, and the Polyak weights follow it."""
import numpy as np
import pytest
import tensorflow as tf

from tfib import runs
from tfib.distributions import PixelCNN
from tfib.runs.step_checkpoint import StepCheckpoint
from tfib.training.conditioning_pretraining import pretrain_conditioning
from tfib.training.decoder_fit import fit_decoder
from tfib.training.pixelcnn_training import PixelCNNTrainer

CONFIG = dict(num_resnet=1, num_hierarchies=2, num_filters=8, num_logistic_mix=2,
              dropout_p=0.0, conditioning_filters=4, low=0, high=3)


def _trainer():
  tf.keras.utils.set_random_seed(7)
  return PixelCNNTrainer(PixelCNN((8, 8, 1), (8, 8, 1), **CONFIG), learning_rate=1e-2,
                         jit_compile=False, data_init=False)


def _data():
  images = np.random.default_rng(0).integers(0, 4, (64, 8, 8, 1)).astype(np.float32)
  h = images / 3.0
  return images[:48], images[48:], lambda index, split: h[index if split == "train"
                                                            else 48 + index]


def _weights(network):
  prefix = network.path + "/"
  return {v.path[len(prefix):]: v.numpy() for v in network.weights}


def test_the_fit_starts_where_prepare_left_the_network():
  images, validation, condition = _data()
  trainer, calls = _trainer(), []

  def prepare():
    calls.append(1)
    pretrain_conditioning(trainer.distribution, images, condition, steps=30, batch_size=16)

  progress = fit_decoder(trainer, images, validation, condition, max_steps=0, prepare=prepare)
  assert calls == [1]
  # The starting point (the prepared network, no step taken) is the decoder returned, and
  # its bits are the initial ones: the Polyak copy was set to it before they were taken.
  prepared, polyak = _weights(trainer.network), _weights(trainer.ema_network)
  assert all(np.array_equal(prepared[path], polyak[path]) for path in prepared)
  assert progress["initial_bits"] == pytest.approx(
      trainer.evaluate(validation, condition(np.arange(16), "validation")), rel=1e-6)


def test_a_resumed_fit_is_not_prepared_again_and_ends_as_the_uninterrupted_one(tmp_path):
  images, validation, condition = _data()
  calls = []

  def fit(directory, stop_at=None):
    trainer = _trainer()
    run = runs.Run(str(directory), "test")

    def on_eval(step, _):
      if step == stop_at:
        raise KeyboardInterrupt  # Killed after the evaluation of step 4, before its commit.

    def prepare():
      calls.append(str(directory))
      pretrain_conditioning(trainer.distribution, images, condition, steps=20, batch_size=16)

    try:
      return trainer, fit_decoder(trainer, images, validation, condition, max_steps=8,
                                  batch_size=16, eval_every=2, patience=100,
                                  checkpoint=StepCheckpoint(run, every=1), on_eval=on_eval,
                                  prepare=prepare)
    finally:
      run.close()

  whole, whole_progress = fit(tmp_path / "whole")
  with pytest.raises(KeyboardInterrupt):
    fit(tmp_path / "killed", stop_at=4)
  resumed, progress = fit(tmp_path / "killed")
  assert calls == [str(tmp_path / "whole"), str(tmp_path / "killed")]  # Not on resume.
  np.testing.assert_allclose(progress["history"], whole_progress["history"], rtol=1e-5)
  ours, theirs = _weights(resumed.ema_network), _weights(whole.ema_network)
  for path in ours:
    np.testing.assert_allclose(ours[path], theirs[path], rtol=1e-5, atol=1e-6)


class _ScriptedTrainer:
  """A trainer whose validation bits/dim follow a script and whose one Polyak weight is the
  step it was taken at, so the weights kept say which evaluation they come from."""

  def __init__(self, bits):
    self.bits = iter(bits)
    self.step = tf.Variable(0, dtype=tf.int64)
    self.weight = tf.Variable(0.0)

  def trackables(self):
    return {"ema_network": {"weight": self.weight}}

  def train_step(self, images, condition):
    del images, condition
    self.step.assign_add(1)
    self.weight.assign(float(self.step.numpy()))
    return 0.0

  def evaluate(self, images, condition, batch_size):
    del images, condition, batch_size
    return next(self.bits)


def test_the_lowest_evaluation_is_kept_and_patience_counts_improvements_by_min_delta():
  images = np.zeros((8, 2, 2, 1), np.float32)
  # Start 1.0; step 1 improves by 0.5, steps 2-4 each by less than min_delta = 1e-3.
  trainer = _ScriptedTrainer([1.0, 0.5, 0.4995, 0.4992, 0.4991, 0.1])
  progress = fit_decoder(trainer, images, images[:4], max_steps=10, batch_size=2,
                         eval_every=1, patience=3, min_delta=1e-3)
  assert progress["step"] == 4  # Three evaluations without an improvement by 1e-3.
  assert "early stopping at step 4" in progress["stop_reason"]
  assert progress["best"] == 0.4991 and trainer.weight.numpy() == 4.0
  # Never better than its start: the start is kept.
  trainer = _ScriptedTrainer([0.3, 0.4, 0.35, 0.5])
  progress = fit_decoder(trainer, images, images[:4], max_steps=10, batch_size=2,
                         eval_every=1, patience=3, min_delta=1e-3)
  assert progress["step"] == 3 and progress["best"] == 0.3 and trainer.weight.numpy() == 0.0
