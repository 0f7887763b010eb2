"""The network of Shwartz-Ziv & Tishby (2017) for the 12-bit SZT task: 12-10-7-5-4-3-2."""
import math

import keras

HIDDEN_WIDTHS = (10, 7, 5, 4, 3)
ACTIVATIONS = ("tanh", "relu")


def szt_network(activation: str = "tanh", hidden_widths=HIDDEN_WIDTHS, num_inputs: int = 12,
                num_classes: int = 2, seed: int = 0) -> keras.Model:
  """Fully connected classifier with the original initialisation of the IDNNs code.

  Weights are drawn from a normal distribution truncated at two standard deviations with
  standard deviation 1/sqrt(fan-in); biases start at zero. Hidden layers are named
  ``h1``..``h5`` and the softmax layer ``output``; all six are the layers of the
  information plane.
  """
  if activation not in ACTIVATIONS:
    raise ValueError(f"Unknown activation {activation!r}; choose one of {ACTIVATIONS}.")
  inputs = keras.Input((num_inputs,), name="x")
  hidden = inputs
  fan_in = num_inputs
  widths = tuple(hidden_widths) + (num_classes,)
  for index, width in enumerate(widths):
    last = index == len(widths) - 1
    hidden = keras.layers.Dense(
        width,
        activation="softmax" if last else activation,
        kernel_initializer=keras.initializers.TruncatedNormal(
            stddev=1.0 / math.sqrt(fan_in), seed=seed * 1000 + index),
        bias_initializer="zeros",
        name="output" if last else f"h{index + 1}",
    )(hidden)
    fan_in = width
  return keras.Model(inputs, hidden, name=f"szt_{activation}")


def information_plane_layers(model: keras.Model):
  """Names of the hidden layers and the output layer of a network built here."""
  return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)]
