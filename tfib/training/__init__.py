"""Training loops that are not plain ``model.fit``.

Modules are imported on use, e.g. ``from tfib.training.pixelcnn_training import
PixelCNNTrainer`` or ``from tfib.training.resnet_training import train_resnet``. Reading a
training run needs no TensorFlow until a network is loaded:
``tfib.training.load_checkpoint(run_dir, epoch)`` is the network after ``epoch`` epochs.
"""
from tfib.training.run_directory import load_checkpoint, read_manifest, saved_epochs

__all__ = ["load_checkpoint", "read_manifest", "saved_epochs"]
