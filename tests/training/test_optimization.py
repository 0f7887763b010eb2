"""Learning-rate schedules in epochs."""
import math

import numpy as np
import pytest

from tfib.training.optimization import EpochLearningRate, build_optimizer


def _rates(schedule, steps):
  return np.array([float(schedule(step)) for step in steps])


def test_cosine_with_warmup():
  schedule = EpochLearningRate(0.1, "cosine", steps_per_epoch=10, epochs=10, warmup_epochs=1)
  np.testing.assert_allclose(_rates(schedule, [0, 4, 9]), [0.01, 0.05, 0.1], rtol=1e-6)
  middle = 0.1 * 0.5 * (1 + math.cos(math.pi * 0.5))
  np.testing.assert_allclose(_rates(schedule, [55, 100]), [middle, 0.0], atol=1e-7)


def test_step_decay_and_constant():
  schedule = EpochLearningRate(1.0, "step", 5, 10, decay_epochs=[2, 4], decay=0.5)
  np.testing.assert_allclose(_rates(schedule, [0, 9, 10, 19, 20, 49]),
                             [1, 1, 0.5, 0.5, 0.25, 0.25])
  np.testing.assert_allclose(_rates(EpochLearningRate(0.3, "constant", 5, 10), [0, 49]),
                             [0.3, 0.3], rtol=1e-6)
  assert EpochLearningRate.from_config(schedule.get_config()).get_config() == (
      schedule.get_config())


def test_unknown_names():
  with pytest.raises(ValueError, match="schedule"):
    EpochLearningRate(0.1, "linear", 1, 1)
  with pytest.raises(ValueError, match="optimizer"):
    build_optimizer("rmsprop", 0.1)
