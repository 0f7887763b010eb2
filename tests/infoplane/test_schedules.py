import numpy as np
import pytest

from tfib.infoplane import schedules


def test_log_spaced_epochs_are_the_idnns_grid_ending_with_the_trained_network():
  epochs = schedules.log_spaced_epochs(8000, 400)
  # IDNNs records the network after j epochs for j + 1 in this set, j = 0 .. 7999.
  idnns = np.unique(np.logspace(0, np.log2(8000), 400, base=2, dtype=int)) - 1
  assert len(idnns) == 274
  np.testing.assert_array_equal(epochs, np.concatenate([[0], idnns + 1]))
  assert epochs[0] == 0 and epochs[-1] == 8000 and np.all(np.diff(epochs) > 0)
  assert schedules.log_spaced_epochs(3, 400).tolist() == [0, 1, 2, 3]


def test_every_k_epochs_include_the_initialisation_and_the_last():
  np.testing.assert_array_equal(schedules.every_k_epochs(10, 4), [0, 4, 8, 10])
  np.testing.assert_array_equal(schedules.every_k_epochs(8, 4), [0, 4, 8])
  with pytest.raises(ValueError):
    schedules.every_k_epochs(0, 1)
  with pytest.raises(ValueError):
    schedules.log_spaced_epochs(10, 0)
