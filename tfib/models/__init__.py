"""Keras 3 model builders for the experiments tfib reproduces."""
from tfib.models import presets
from tfib.models.presets import information_plane_layers
from tfib.models.szt_network import szt_network

__all__ = ["information_plane_layers", "presets", "szt_network"]
