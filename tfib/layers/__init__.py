"""Keras 3 layers and helpers that people put into their own models."""
from tfib.layers.capture import Capture, activation_model, captured_layer_names

__all__ = ["Capture", "activation_model", "captured_layer_names"]
