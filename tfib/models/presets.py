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

`cnn` makes the configurable CNNs of Li & Liu's sweeps ("Information bottleneck theory on
convolutional neural networks"): any filters, kernel sizes and depth, pooling on or off,
dense layers, activation; `build_preset` builds any `Preset`.
"""
import dataclasses
import math
from typing import Optional, Sequence, Tuple

import keras

from tfib.layers.fake_quant import FakeQuant, check_bits
from tfib.layers.quantized_kernel import QuantizedConv2D, QuantizedDense


@dataclasses.dataclass(frozen=True)
class Preset:
  """A network: convolutions (each optionally followed by 2×2 max-pooling), then dense
  layers, then the softmax output; every layer's output is an analysed representation."""

  input_shape: Tuple[int, ...]
  widths: Tuple[int, ...]  # Hidden dense widths.
  activation: str
  num_classes: int
  conv_filters: Tuple[int, ...] = ()
  kernel_sizes: Tuple[int, ...] = ()  # Per convolution; empty: 3×3 everywhere.
  pooling: bool = True  # 2×2 max-pooling after each convolution.
  padding: str = "valid"

  def conv_kernels(self) -> Tuple[int, ...]:
    return tuple(self.kernel_sizes) or (3,) * len(self.conv_filters)

  def feature_map_sizes(self) -> Tuple[Tuple[int, int], ...]:
    """(height, width) after each convolution (and its pooling); ValueError if the input
    is too small for the stack."""
    if len(self.conv_kernels()) != len(self.conv_filters):
      raise ValueError(f"{len(self.conv_filters)} convolutions but {len(self.kernel_sizes)} "
                       "kernel sizes.")
    if self.conv_filters and len(self.input_shape) != 3:
      raise ValueError(f"Convolutions need image inputs [H, W, C], got {self.input_shape}.")
    sizes, (height, width) = [], self.input_shape[:2] if self.conv_filters else (0, 0)
    for index, kernel in enumerate(self.conv_kernels()):
      if self.padding == "valid":
        height, width = height - kernel + 1, width - kernel + 1
      if min(height, width) < 1:
        raise ValueError(f"Convolution {index + 1} ({kernel}x{kernel}, padding "
                         f"{self.padding!r}) does not fit its input: the network's "
                         f"{len(self.conv_filters)} convolutions need larger images than "
                         f"{self.input_shape[0]}x{self.input_shape[1]}.")
      if self.pooling:
        height, width = height // 2, width // 2
        if min(height, width) < 1:
          raise ValueError(f"Pooling after convolution {index + 1} would go below 1x1 (the "
                           f"{self.input_shape[0]}x{self.input_shape[1]} input halves "
                           f"{index + 1} times): use fewer layers or no pooling.")
      sizes.append((height, width))
    return tuple(sizes)


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
  if activation:
    spec = dataclasses.replace(spec, activation=activation)
  return build_preset(spec, bits, seed, name)


def cnn(input_shape, num_classes: int, filters: Sequence[int], kernel_sizes: Sequence[int],
        pooling: bool, dense: Sequence[int] = (), activation: str = "relu",
        padding: str = "same") -> Preset:
  """Li & Liu's CNNs: convolutions of ``filters`` with ``kernel_sizes``, 2×2 max-pooling
  after each if ``pooling``, dense hidden layers of ``dense`` units, a softmax output."""
  spec = Preset(tuple(input_shape), tuple(int(d) for d in dense), activation, int(num_classes),
                conv_filters=tuple(int(f) for f in filters),
                kernel_sizes=tuple(int(k) for k in kernel_sizes), pooling=bool(pooling),
                padding=padding)
  check(spec)
  return spec


def check(spec: Preset):
  """Raises ValueError naming what is wrong with ``spec`` (before anything is built)."""
  if spec.activation not in ACTIVATIONS:
    raise ValueError(f"Unknown activation {spec.activation!r}; choose one of {ACTIVATIONS}.")
  if spec.padding not in ("same", "valid"):
    raise ValueError(f"padding must be 'same' or 'valid', got {spec.padding!r}.")
  for what, values in (("filters", spec.conv_filters), ("kernel sizes", spec.conv_kernels()),
                       ("dense widths", spec.widths)):
    if any(v < 1 for v in values):
      raise ValueError(f"The {what} must be positive, got {values}.")
  spec.feature_map_sizes()


def build_preset(spec: Preset, bits: int = 32, seed: int = 0, name: str = "network"
                 ) -> keras.Model:
  """Builds ``spec`` with ``bits``-bit layers (4, 8 or 32 = float)."""
  check(spec)
  return _network(spec, check_bits(int(bits)), spec.activation, seed, name)


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
  for index, (filters, kernel) in enumerate(zip(spec.conv_filters, spec.conv_kernels())):
    layer = QuantizedConv2D if bits < 32 else keras.layers.Conv2D
    extra = {"bits": bits} if bits < 32 else {}
    hidden = layer(filters, kernel, activation=activation, padding=spec.padding,
                   bias_initializer="zeros",
                   kernel_initializer=_initializer(kernel * kernel * channels,
                                                   seed * 1000 + next(counter)),
                   name=f"conv{index + 1}", **extra)(hidden)
    hidden = mark(hidden, activation)
    if spec.pooling:
      hidden = keras.layers.MaxPooling2D(2)(hidden)
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
