"""Marking the layers to analyse, and the model that returns their activations at once.

Two ways to choose layers: drop `Capture` layers into your own model (identity layers that
mark a point for analysis), or name existing layers. `activation_model` builds, from either,
one Keras model that returns all chosen activations in a single forward pass; the callback
and every binary read activations through it.
"""
from typing import Optional, Sequence

import keras


@keras.saving.register_keras_serializable(package="tfib")
class Capture(keras.layers.Layer):
  """Identity layer marking its input as a representation T to analyse.

      h = keras.layers.Dense(64, activation="tanh")(x)
      h = tfib.layers.Capture(name="h1")(h)

  It computes nothing (the output is the input), has no weights, and saves and loads with
  the model. Its name is the layer name used in tags and results.
  """

  def call(self, inputs):
    return inputs

  def compute_output_shape(self, input_shape):
    return input_shape


def captured_layer_names(model: keras.Model):
  """Names of the `Capture` layers of ``model``, in model order."""
  return [layer.name for layer in model.layers if isinstance(layer, Capture)]


def activation_model(model: keras.Model, layer_names: Optional[Sequence[str]] = None
                     ) -> keras.Model:
  """A model with ``model``'s inputs whose outputs are the chosen layers' activations.

  ``layer_names`` names any layers of ``model``; if None, its `Capture` layers are used. The
  layers share their weights with ``model``, so the activations follow training.
  """
  if layer_names is None:
    layer_names = captured_layer_names(model)
    if not layer_names:
      raise ValueError(f"Model {model.name!r} has no Capture layer; add tfib.layers.Capture "
                       "layers or name the layers to analyse.")
  if not layer_names:
    raise ValueError("Name at least one layer to capture.")
  known = [layer.name for layer in model.layers]
  missing = [name for name in layer_names if name not in known]
  if missing:
    raise ValueError(f"Model {model.name!r} has no layer named {', '.join(map(repr, missing))};"
                     f" its layers are: {', '.join(known)}.")
  outputs = [model.get_layer(name).output for name in layer_names]
  inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
  return keras.Model(inputs, outputs, name=f"{model.name}_activations")
