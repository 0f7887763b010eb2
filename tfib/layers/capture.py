"""The model that returns the activations of chosen layers: what every estimator reads."""
from typing import Sequence

import keras


def activation_model(model: keras.Model, layer_names: Sequence[str]) -> keras.Model:
  """A model with ``model``'s inputs whose outputs are the named layers' activations.

  The layers share their weights with ``model``, so the activations follow training.
  """
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
