"""The networks of Lorenzen, Igel & Nielsen (ICLR 2022), in float or quantized form.

"Information bottleneck: exact analysis of (quantized) neural networks" trains these with
Adam (learning rate 1e-4), batch size 256, 8000 epochs on the SZT task and 3000 on MNIST,
50 repetitions, and computes MI exactly from 4- or 8-bit quantized layers (32 = float).

    name                 input    layers (hidden activation)
    szt-tanh, szt-relu   12       12-10-7-5-4-3-2 (tanh / ReLU), softmax
    mnist-bottleneck-2   28×28×1  784-16-8-4-2-10 (ReLU)
    mnist-bottleneck-4   28×28×1  784-16-12-8-4-10 (ReLU)
    mnist-hourglass      28×28×1  784-16-8-4-2-4-8-10 (ReLU)
    mnist-4x10           28×28×1  784-10-10-10-10-10 (tanh)
    mnist-conv           28×28×1  conv 2×3×3, pool 2, conv 2×3×3, pool 2, dense 16 (ReLU), 10

Layers analysed are named ``h1``.. ``hk`` and ``output``; with ``bits`` < 32 they are the
`FakeQuant` outputs (at most 2^bits values per unit), weights are quantized with
`QuantizedDense` / `QuantizedConv2D`. Weights start from a normal distribution truncated
at two standard deviations with standard deviation 1/sqrt(fan-in), biases at zero.
"""
import dataclasses
import math
from typing import Optional, Sequence, Tuple

import keras

from tfib.layers.fake_quant import FakeQuant, check_bits
from tfib.layers.quantized_kernel import QuantizedConv2D, QuantizedDense


@dataclasses.dataclass(frozen=True)
class Preset:
  input_shape: Tuple[int, ...]
  widths: Tuple[int, ...]  # Hidden dense widths.
  activation: str
  num_classes: int
  conv_filters: Tuple[int, ...] = ()  # 3×3 convolutions, each followed by 2×2 max-pooling.


PRESETS = {
    "szt-tanh": Preset((12,), (10, 7, 5, 4, 3), "tanh", 2),
    "szt-relu": Preset((12,), (10, 7, 5, 4, 3), "relu", 2),
    "mnist-bottleneck-2": Preset((28, 28, 1), (16, 8, 4, 2), "relu", 10),
    "mnist-bottleneck-4": Preset((28, 28, 1), (16, 12, 8, 4), "relu", 10),
    "mnist-hourglass": Preset((28, 28, 1), (16, 8, 4, 2, 4, 8), "relu", 10),
    "mnist-4x10": Preset((28, 28, 1), (10, 10, 10, 10), "tanh", 10),
    "mnist-conv": Preset((28, 28, 1), (16,), "relu", 10, conv_filters=(2, 2)),
}
ACTIVATIONS = ("tanh", "relu")


def names():
  return sorted(PRESETS)


def preset(name: str) -> Preset:
  try:
    return PRESETS[name]
  except KeyError:
    raise ValueError(f"Unknown model {name!r}; known models: {', '.join(names())}.") from None


def build(name: str, bits: int = 32, activation: Optional[str] = None, seed: int = 0
          ) -> keras.Model:
  """Builds preset ``name`` with ``bits``-bit layers (4, 8 or 32 = float)."""
  spec = preset(name)
  activation = activation or spec.activation
  if activation not in ACTIVATIONS:
    raise ValueError(f"Unknown activation {activation!r}; choose one of {ACTIVATIONS}.")
  return _network(spec, check_bits(int(bits)), activation, seed, name)


def _initializer(fan_in: int, seed: int):
  return keras.initializers.TruncatedNormal(stddev=1.0 / math.sqrt(fan_in), seed=seed)


def _network(spec: Preset, bits: int, activation: str, seed: int, name: str) -> keras.Model:
  inputs = keras.Input(spec.input_shape, name="x")
  hidden = inputs
  names = iter(f"h{i}" for i in range(1, 100))
  counter = iter(range(1000))

  def mark(tensor, unit_activation):
    """Names a representation; quantizes it first if bits < 32."""
    if bits == 32:
      return keras.layers.Identity(name=next(names))(tensor)
    range_mode = "batch" if unit_activation == "tanh" else "moving_average"
    return FakeQuant(bits, range_mode=range_mode, name=next(names))(tensor)

  channels = spec.input_shape[-1]
  for index, filters in enumerate(spec.conv_filters):
    layer = QuantizedConv2D if bits < 32 else keras.layers.Conv2D
    extra = {"bits": bits} if bits < 32 else {}
    hidden = layer(filters, 3, activation="relu", bias_initializer="zeros",
                   kernel_initializer=_initializer(9 * channels, seed * 1000 + next(counter)),
                   name=f"conv{index + 1}", **extra)(hidden)
    hidden = keras.layers.MaxPooling2D(2)(mark(hidden, "relu"))
    channels = filters
  if len(hidden.shape) > 2:
    hidden = keras.layers.Flatten()(hidden)
  for index, width in enumerate(tuple(spec.widths) + (spec.num_classes,)):
    last = index == len(spec.widths)
    unit_activation = "softmax" if last else activation
    fan_in = hidden.shape[-1]
    extra = {"bits": bits} if bits < 32 else {}
    hidden = (QuantizedDense if bits < 32 else keras.layers.Dense)(
        width, activation=unit_activation, bias_initializer="zeros",
        kernel_initializer=_initializer(fan_in, seed * 1000 + next(counter)),
        name=f"dense{index + 1}", **extra)(hidden)
    if last:
      names = iter(["output"])
    hidden = mark(hidden, unit_activation)
  return keras.Model(inputs, hidden, name=name.replace("-", "_"))


def information_plane_layers(model: keras.Model) -> Sequence[str]:
  """Names of the analysed layers (``h1``.. and ``output``) of a network built here."""
  return [layer.name for layer in model.layers
          if layer.name == "output" or (layer.name[:1] == "h" and layer.name[1:].isdigit())]
