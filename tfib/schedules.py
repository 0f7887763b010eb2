"""Which epochs to record the information plane at."""
import numpy as np


def log_spaced_epochs(num_epochs: int, num_points: int = 400) -> np.ndarray:
  """Epochs 0..num_epochs−1 spaced logarithmically, as in the IDNNs code.

  round-down of 2^linspace(0, log2 num_epochs, num_points), de-duplicated, minus one: dense
  early, sparse late. For 8000 epochs and 400 points this gives the 274 epochs of
  Shwartz-Ziv & Tishby's figures.
  """
  if num_epochs < 1 or num_points < 1:
    raise ValueError("num_epochs and num_points must be positive.")
  points = np.logspace(0, np.log2(num_epochs), num_points, base=2, dtype=int)
  return np.unique(points) - 1


def every_k_epochs(num_epochs: int, k: int = 1) -> np.ndarray:
  """Epochs 0, k, 2k, ... and the last one."""
  if num_epochs < 1 or k < 1:
    raise ValueError("num_epochs and k must be positive.")
  return np.unique(np.append(np.arange(0, num_epochs, k), num_epochs - 1))
