"""The epochs at which a training run keeps the network: ``--save_epochs`` specs.

Epoch k means "after k epochs of training"; epoch 0 is the initialisation. A spec is one of

  ``0,1,2,5,10,20,50,100,200``  those epochs;
  ``log:N``                     N points log-spaced between 1 and the last epoch, plus 0
                                (rounded and de-duplicated, so possibly fewer than N + 1);
  ``every:K``                   0, K, 2K, ...

Epochs past the run's last are dropped (a paper schedule works for a two-epoch test run),
and the last epoch is always kept, so a finished run always holds its final network.
"""
from typing import List

import numpy as np

__all__ = ["parse_save_epochs"]


def parse_save_epochs(spec: str, num_epochs: int) -> List[int]:
  """Sorted epochs in 0..num_epochs to save at, from ``spec`` (see the module docstring)."""
  if num_epochs < 1:
    raise ValueError(f"num_epochs must be positive, got {num_epochs}.")
  text = spec.strip()
  if not text:
    raise ValueError("The save_epochs spec is empty; e.g. '0,1,2,5,10', 'log:20' or "
                     "'every:10'.")
  kind, _, argument = text.partition(":")
  if kind in ("log", "every"):
    try:
      count = int(argument)
    except ValueError:
      raise ValueError(f"Bad save_epochs spec {spec!r}: '{kind}:' takes a positive integer."
                       ) from None
    if count < 1:
      raise ValueError(f"Bad save_epochs spec {spec!r}: '{kind}:' takes a positive integer.")
    if kind == "log":
      points = np.round(np.logspace(0, np.log10(num_epochs), count)).astype(int)
    else:
      points = np.arange(0, num_epochs + 1, count)
    epochs = {0, *points.tolist()}
  else:
    try:
      epochs = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
      raise ValueError(f"Bad save_epochs spec {spec!r}: give comma-separated epochs, "
                       "'log:N' or 'every:K'.") from None
    if any(epoch < 0 for epoch in epochs):
      raise ValueError(f"Bad save_epochs spec {spec!r}: epochs cannot be negative.")
  return sorted({epoch for epoch in epochs if epoch <= num_epochs} | {num_epochs})
