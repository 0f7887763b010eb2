"""Which epochs to record the information plane at.

An epoch number here counts completed epochs: 0 is the network as initialised, E the
network after the last of E epochs, so a schedule always ends with the trained network.
"""
import numpy as np

__all__ = ["every_k_epochs", "log_spaced_epochs"]


def log_spaced_epochs(num_epochs: int, num_points: int = 400) -> np.ndarray:
  """0, then 2^linspace(0, log2 E, P) rounded down, de-duplicated: dense early, sparse late.

  The grid of the IDNNs code (Shwartz-Ziv & Tishby), which records the network after j
  epochs for j + 1 in that set, shifted by one so that the last point is the trained network
  (after E epochs) and the first the initialisation. For E = 8000 and P = 400 this gives 275
  epochs: the 274 of their figures, one epoch later each, and epoch 0.
  """
  if num_epochs < 1 or num_points < 1:
    raise ValueError("num_epochs and num_points must be positive.")
  points = np.logspace(0, np.log2(num_epochs), num_points, base=2, dtype=int)  # As IDNNs.
  return np.unique(np.concatenate([[0, num_epochs], points]))


def every_k_epochs(num_epochs: int, k: int = 1) -> np.ndarray:
  """Epochs 0, k, 2k, ... and the last one, E."""
  if num_epochs < 1 or k < 1:
    raise ValueError("num_epochs and k must be positive.")
  return np.unique(np.append(np.arange(0, num_epochs, k), num_epochs))
