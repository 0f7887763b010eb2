"""Keras 3 model builders for the experiments tfib reproduces."""
from tfib.models import presets
from tfib.models.presets import information_plane_layers
from tfib.models.szt_network import szt_network
from tfib.models.resnet import resnet_classifier
from tfib.models.resnet_autoencoder import resnet_autoencoder

__all__ = ["information_plane_layers", "presets", "resnet_autoencoder", "resnet_classifier",
           "szt_network"]
