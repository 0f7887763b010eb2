"""A stack of layers with a softmax head on each: the network that layer-wise training
(`tfib.training.layerwise_ib`) trains one layer at a time, and end to end for comparison.

Layers are written ``dense<units>`` (a dense layer, its input flattened first) or
``conv<filters>`` (a 3×3 convolution of stride 2, "same" padding), convolutions first:

    stack = LayerStack(["dense512", "dense256"], input_shape=(28, 28, 1), num_classes=10)
    t1, t2 = stack.outputs(x)          # the clean outputs of every layer
    stack.predict(x)                   # argmax of the last head on the last output
"""
import re
from typing import Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

__all__ = ["LayerStack", "parse_layers"]

_LAYER = re.compile(r"^(dense|conv)([1-9][0-9]*)$")
_EVAL_BATCH = 2048


def parse_layers(specs: Sequence[str]) -> List[Tuple[str, int]]:
  """("dense512", "conv32") → [("dense", 512), ("conv", 32)]; a bad spec is refused."""
  if isinstance(specs, str) or not specs:
    raise ValueError(f"layers must be a non-empty list such as ['dense512', 'dense256'], "
                     f"got {specs!r}.")
  parsed = []
  for spec in specs:
    match = _LAYER.match(str(spec).strip())
    if not match:
      raise ValueError(f"Bad layer {spec!r}: write dense<units> or conv<filters> (a 3x3 "
                       "convolution of stride 2), e.g. dense512 or conv32.")
    parsed.append((match.group(1), int(match.group(2))))
  kinds = "".join("c" if kind == "conv" else "d" for kind, _ in parsed)
  if "dc" in kinds:
    raise ValueError(f"Convolutions must come before dense layers: {list(specs)}.")
  return parsed


class LayerStack:
  """The layers g_1..g_L (``layers``, see the module docstring) and a softmax head per
  layer, built for inputs of ``input_shape``; initial weights a function of ``seed``."""

  def __init__(self, layers: Sequence[str], input_shape, num_classes: int,
               activation: str = "relu", seed: int = 0):
    self.layers: List[keras.Sequential] = []
    self.heads: List[keras.Sequential] = []
    shape = tuple(input_shape)
    for index, (kind, size) in enumerate(parse_layers(layers)):
      init = keras.initializers.GlorotUniform(seed=seed * 1000 + 2 * index)
      head_init = keras.initializers.GlorotUniform(seed=seed * 1000 + 2 * index + 1)
      if kind == "conv":
        if len(shape) != 3:
          raise ValueError(f"Layer {index + 1} ({kind}{size}) needs images [H, W, C]; its "
                           f"input has shape {shape}.")
        body = [keras.layers.Conv2D(size, 3, strides=2, padding="same", activation=activation,
                                    kernel_initializer=init)]
      else:
        body = ([keras.layers.Flatten()] if len(shape) > 1 else []) + [
            keras.layers.Dense(size, activation=activation, kernel_initializer=init)]
      layer = keras.Sequential([keras.Input(shape)] + body, name=f"layer_{index + 1}")
      shape = tuple(layer.output_shape[1:])
      head = keras.Sequential([keras.Input(shape)] + (
          [keras.layers.Flatten()] if len(shape) > 1 else []) + [
              keras.layers.Dense(num_classes, kernel_initializer=head_init)],
          name=f"head_{index + 1}")
      self.layers.append(layer)
      self.heads.append(head)
    self.num_classes = int(num_classes)

  @property
  def names(self) -> List[str]:
    return [f"layer_{i + 1}" for i in range(len(self.layers))]

  def outputs(self, x, upto: Optional[int] = None) -> List[np.ndarray]:
    """The clean outputs T_1..T_upto (all layers by default) of inputs ``x``."""
    upto = len(self.layers) if upto is None else upto
    found = [[] for _ in range(upto)]
    for start in range(0, len(x), _EVAL_BATCH):
      t = tf.convert_to_tensor(x[start:start + _EVAL_BATCH])
      for index in range(upto):
        t = self.layers[index](t, training=False)
        found[index].append(t.numpy())
    return [np.concatenate(parts) for parts in found]

  def head_logits(self, index: int, t) -> np.ndarray:
    """The logits of head ``index`` (0-based) on outputs ``t`` of its layer."""
    return np.concatenate([self.heads[index](t[s:s + _EVAL_BATCH]).numpy()
                           for s in range(0, len(t), _EVAL_BATCH)])

  def predict(self, x) -> np.ndarray:
    """Class predictions: argmax of the last head on the clean last output."""
    return self.head_logits(len(self.layers) - 1, self.outputs(x)[-1]).argmax(axis=1)

  def trackables(self) -> Dict[str, object]:
    """The layers and heads by name, for a run's resume state."""
    named = dict(zip(self.names, self.layers))
    named.update({f"head_{i + 1}": head for i, head in enumerate(self.heads)})
    return named
