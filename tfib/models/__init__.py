"""Keras 3 model builders for the experiments tfib reproduces."""
from tfib.models.szt_network import szt_network, information_plane_layers

__all__ = ["information_plane_layers", "szt_network"]
