"""Keras 3 layers and helpers that people put into their own models."""
from tfib.layers.capture import Capture, activation_model, captured_layer_names
from tfib.layers.fake_quant import FakeQuant, fake_quantize
from tfib.layers.input_range import InputRange
from tfib.layers.quantized_kernel import QuantizedConv2D, QuantizedDense

__all__ = ["Capture", "FakeQuant", "InputRange", "QuantizedConv2D", "QuantizedDense",
           "activation_model", "captured_layer_names", "fake_quantize"]
