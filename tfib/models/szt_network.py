"""The network of Shwartz-Ziv & Tishby (2017) for the 12-bit SZT task: 12-10-7-5-4-3-2."""
import keras

from tfib.models import presets


def szt_network(activation: str = "tanh", seed: int = 0, bits: int = 32) -> keras.Model:
  """The SZT classifier with the original initialisation of the IDNNs code.

  Weights are drawn from a normal distribution truncated at two standard deviations with
  standard deviation 1/sqrt(fan-in); biases start at zero. The hidden representations are
  named ``h1``..``h5`` and the softmax output ``output``: the six layers of the information
  plane (`presets.information_plane_layers`). ``bits`` < 32 gives the quantized network of
  Lorenzen et al.
  """
  if activation not in presets.ACTIVATIONS:
    raise ValueError(f"Unknown activation {activation!r}; choose one of {presets.ACTIVATIONS}.")
  return presets.build(f"szt-{activation}", bits=bits, seed=seed)
