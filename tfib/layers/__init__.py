"""Keras 3 layers and helpers that people put into their own models."""
from tfib.layers.capture import activation_model

__all__ = ["activation_model"]
