"""Training loops that are not plain ``model.fit``.

Modules are imported on use, e.g. ``from tfib.training.pixelcnn_training import
PixelCNNTrainer`` or ``from tfib.training.resnet_training import train_resnet``. Reading a
`tfib-train` run needs no TensorFlow until a network is loaded:
``tfib.training.load_checkpoint(run_dir, epoch)`` is the network after ``epoch`` epochs.
"""
import os
from typing import Dict, List

from tfib import runs
from tfib.training.train_config import HISTORY

__all__ = ["held_out_data", "load_checkpoint", "saved_epochs", "training_history"]


def saved_epochs(run_dir: str) -> List[int]:
  """The epochs whose network the tfib-train run in ``run_dir`` holds, ascending."""
  return sorted(runs.saved_networks(run_dir))


def load_checkpoint(run_dir: str, epoch: int, verify: bool = True):
  """The Keras model of the tfib-train run in ``run_dir`` after ``epoch`` epochs.

  Epoch 0 is the initialisation. The model is the full network (a classifier returning
  logits, or an autoencoder returning reconstructions) with its `Capture` layers ``h1``..
  ``h4``: ``tfib.layers.activation_model(model)`` gives their activations. With ``verify``
  the file's SHA-256 is checked first. Raises KeyError for an epoch that was not saved (the
  message lists those that were) and `tfib.runs.CorruptStateError` for a file that cannot
  be read.
  """
  return runs.load_network(run_dir, epoch, verify=verify)


def training_history(run_dir: str) -> List[Dict]:
  """[{"epoch": k, "metrics": {...}}, ...] of every completed epoch of a tfib-train run."""
  return runs.read_records(os.path.join(run_dir, HISTORY))


def held_out_data(run_dir: str, data_dir=None):
  """(images float32 [N, H, W, C] in [0, 1], labels int32 [N]): the held-out images the
  tfib-train run in ``run_dir`` evaluated on, the same split and subset it used."""
  from tfib import data  # pylint: disable=g-import-not-at-top
  from tfib.training import input_pipeline  # pylint: disable=g-import-not-at-top  (TF)

  train = runs.read_manifest(run_dir)["config"]["train"]
  split = input_pipeline.load_image_data(train["dataset"], data_dir, train["max_train_examples"],
                                         train["max_eval_examples"])
  return data.to_float(split.eval_images), split.eval_labels
