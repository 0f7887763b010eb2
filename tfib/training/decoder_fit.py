"""Fitting a PixelCNN++ decoder: early stopping on validation bits/dim, warm starts, resumable.

Darlow & Storkey bound H(X | H) by the held-out negative log-likelihood of a decoder
p(x | h). Any decoder's held-out NLL is an upper bound, so how the decoder got there does
not bias the bound; it only decides how tight it is and how long it takes:

* **Warm start** (`warm_start`): a decoder starts from another one's weights — every
  weight of the same path and shape copied, projections of the condition that the other
  lacks set to zero (from the unconditional decoder, step 0 has its NLL). Or
  ``prepare`` pretrains part of it first (`tfib.training.conditioning_pretraining`).
* **Early stopping** (`fit_decoder`): every ``eval_every`` steps the Polyak weights are
  evaluated on a validation split (taken from the training images, never the held-out
  images the bound is reported on); training stops when validation bits/dim have not
  improved by more than ``min_delta`` for ``patience`` evaluations, or after ``max_steps``,
  and the Polyak weights of the lowest evaluation — the starting point included, an
  improvement smaller than ``min_delta`` too — are the decoder's.
* **Resumable**: the trainer's variables and the fit's progress (step, curve, best) are a
  resume state through a ``checkpoint`` (`tfib.runs.step_checkpoint.StepCheckpoint`),
  saved at evaluations; the batches are functions of (seed, step), so a resumed fit is
  the uninterrupted fit.

The conditional input of a batch comes from ``condition`` (for the decoder-MI program: the
frozen ResNet's layer, computed once for every image when it fits in memory, else per
batch), so the caller decides whether a training set of feature maps is ever held.
"""
import json
import math
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf

from tfib.data import epoch_order

__all__ = ["fit_decoder", "network_weights", "warm_start"]


def network_weights(distribution) -> Dict[str, np.ndarray]:
  """{path in the network: value} of a `PixelCNN`'s weights (what `warm_start` reads)."""
  prefix = distribution.network.path + "/"
  return {v.path[len(prefix):]: v.numpy() for v in distribution.network.variables}


def warm_start(conditional, weights: Dict[str, np.ndarray]):
  """Makes the `PixelCNN` ``conditional`` compute what the unconditional network of
  ``weights`` (`network_weights`) computes: shared weights copied, the projections of the
  condition into the gated blocks zero."""
  prefix = conditional.network.path + "/"
  for variable in conditional.network.variables:
    path = variable.path[len(prefix):]
    if path in weights and tuple(weights[path].shape) == tuple(variable.shape):
      variable.assign(weights[path])
    elif "/condition/" in path:
      variable.assign(tf.zeros_like(variable))


def fit_decoder(trainer, images: np.ndarray, validation: np.ndarray,
                condition: Optional[Callable] = None, max_steps: int = 2000,
                batch_size: int = 32, eval_every: int = 100, patience: int = 5,
                min_delta: float = 1e-3, seed: int = 0, checkpoint=None,
                on_eval: Optional[Callable[[int, Dict], None]] = None,
                prepare: Optional[Callable[[], None]] = None) -> Dict:
  """Trains ``trainer`` (a `PixelCNNTrainer`) on ``images`` (levels, [N, H, W, C]).

  ``condition(indices, split)`` gives the conditional input of the images at ``indices``
  of "train" or "validation" (None: unconditional). ``prepare()`` runs once, before the
  first step of a fit that is not resumed (for instance `pretrain_conditioning`); the
  Polyak weights are then set to the network's. ``on_eval(step, metrics)`` follows every
  evaluation: the starting point's ({"validation_bits_per_dim"}, once, before the first
  step), then {"train_bits_per_dim", "validation_bits_per_dim"}. Returns the progress:
  {"step", "history": [[step, train bits/dim, validation bits/dim], ...], "initial_bits"
  (the starting point's validation bits/dim), "best", "stop_reason"}.
  """
  progress_variable = tf.Variable("", dtype=tf.string, trainable=False, name="decoder_fit")
  polyak = trainer.trackables()["ema_network"]
  best = {name: tf.Variable(variable, trainable=False) for name, variable in polyak.items()}
  if checkpoint is not None:
    checkpoint.restore(dict(trainer.trackables(), progress=progress_variable, best=best))
  progress = json.loads(progress_variable.numpy().decode() or "{}") or {
      "step": int(trainer.step.numpy()), "history": [], "best": math.inf, "since_best": 0,
      "stop_reason": None}
  finished_before = progress["stop_reason"] is not None
  # A fit saved by an earlier tfib kept only improvements by min_delta: its best is both.
  progress.setdefault("improved_to", progress["best"])

  def save():
    progress_variable.assign(json.dumps(progress))
    checkpoint.save(progress["step"])

  def cond(indices, split):
    return None if condition is None else condition(indices, split)

  def validation_bits():
    total = 0.0
    for start in range(0, len(validation), 64):
      index = np.arange(start, min(start + 64, len(validation)))
      total += trainer.evaluate(validation[index], cond(index, "validation"),
                                batch_size=64) * len(index)
    return total / len(validation)

  def keep_best():
    for name, variable in polyak.items():
      best[name].assign(variable)

  if not finished_before and "initial_bits" not in progress:
    if prepare is not None:
      prepare()
      trainer.reset_polyak()
    # The starting point is a candidate too: a warm-started decoder that cannot use h
    # keeps the weights it started from instead of fitting noise.
    progress["initial_bits"] = progress["best"] = progress["improved_to"] = validation_bits()
    keep_best()
    if on_eval is not None:
      on_eval(progress["step"], {"validation_bits_per_dim": progress["initial_bits"]})
  losses = []
  while progress["stop_reason"] is None:
    if progress["step"] >= max_steps:
      progress["stop_reason"] = f"reached max_steps={max_steps}"
      break
    index = epoch_order.step_batch(len(images), batch_size, seed, progress["step"])
    losses.append(float(trainer.train_step(images[index], cond(index, "train"))))
    progress["step"] = int(trainer.step.numpy())
    if progress["step"] % eval_every and progress["step"] != max_steps:
      continue
    bits = validation_bits()
    progress["history"].append([progress["step"], float(np.mean(losses)), bits])
    losses = []
    if bits < progress["best"]:
      progress["best"] = bits
      keep_best()
    if bits < progress["improved_to"] - min_delta:
      progress["improved_to"], progress["since_best"] = bits, 0
    else:
      progress["since_best"] += 1
      if progress["since_best"] >= patience:
        progress["stop_reason"] = (f"early stopping at step {progress['step']}: validation "
                                   f"bits/dim not below {progress['improved_to']:.4f} by more "
                                   f"than {min_delta} in {patience} evaluations")
    if on_eval is not None:
      on_eval(progress["step"], {"train_bits_per_dim": progress["history"][-1][1],
                                 "validation_bits_per_dim": bits})
    if (checkpoint is not None and not progress["stop_reason"]
        and len(progress["history"]) % checkpoint.every == 0):
      save()
  for name, variable in polyak.items():
    variable.assign(best[name])
  if checkpoint is not None and not finished_before:
    save()  # The finished fit: a rerun returns it without training.
  return progress
