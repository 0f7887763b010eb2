"""`TrainConfig`: the settings that define a `tfib-train` run (no TensorFlow imported here).

A run directory records them in its manifest and refuses to be resumed with different ones
(`tfib.runs.Run`). Operational settings (run directory, strategy, XLA, data
directory) are not part of it: a run may continue on other hardware.
"""
import dataclasses
from typing import Any, Dict, Sequence

from tfib.training.checkpoint_schedule import parse_save_epochs

__all__ = ["HISTORY", "LR_SCHEDULES", "MODES", "OPTIMIZERS", "PROGRAM", "TrainConfig"]

PROGRAM = "tfib-train"  # The program named in the manifests of its run directories.
HISTORY = "history.jsonl"  # The journal of a run's per-epoch metrics.

MODES = ("classifier", "autoencoder")
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine", "step")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """The settings that define a run: resuming with different ones is refused."""

  mode: str = "classifier"
  dataset: str = "mnist5k"
  epochs: int = 2
  batch_size: int = 128
  width: int = 64
  depth: int = 18
  sync_batch_norm: bool = True
  optimizer: str = "sgd"
  learning_rate: float = 0.1
  momentum: float = 0.9
  weight_decay: float = 5e-4
  lr_schedule: str = "cosine"
  warmup_epochs: float = 0.0
  lr_decay_epochs: Sequence[float] = ()
  lr_decay: float = 0.1
  augment: bool = True
  seed: int = 0
  save_epochs: str = "0,1,2,5,10,20,50,100,200"
  max_train_examples: int = 0
  max_eval_examples: int = 0

  def as_dict(self) -> Dict[str, Any]:
    values = dataclasses.asdict(self)
    values["lr_decay_epochs"] = [float(e) for e in self.lr_decay_epochs]
    return values

  def validate(self):
    """Raises ValueError naming the first bad setting."""
    from tfib import data  # pylint: disable=g-import-not-at-top  (numpy only)

    if self.mode not in MODES:
      raise ValueError(f"Unknown mode {self.mode!r}; choose one of {', '.join(MODES)}.")
    if self.dataset not in data.names():
      raise ValueError(f"Unknown dataset {self.dataset!r}; known: {', '.join(data.names())}.")
    for name in ("epochs", "batch_size", "width"):
      if getattr(self, name) < 1:
        raise ValueError(f"{name} must be positive, got {getattr(self, name)}.")
    if self.optimizer not in OPTIMIZERS:
      raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose one of "
                       f"{OPTIMIZERS}.")
    if self.lr_schedule not in LR_SCHEDULES:
      raise ValueError(f"Unknown lr_schedule {self.lr_schedule!r}; choose one of "
                       f"{LR_SCHEDULES}.")
    if not self.learning_rate > 0:
      raise ValueError(f"learning_rate must be positive, got {self.learning_rate}.")
    if self.weight_decay < 0 or self.warmup_epochs < 0 or self.momentum < 0:
      raise ValueError("weight_decay, warmup_epochs and momentum cannot be negative.")
    if self.max_train_examples < 0 or self.max_eval_examples < 0:
      raise ValueError("max_train_examples and max_eval_examples cannot be negative.")
    parse_save_epochs(self.save_epochs, self.epochs)
