"""tfib: information-bottleneck analysis of neural networks for TensorFlow and Keras.

Subpackages are imported on first use (``tfib.estimators``, ``tfib.data``, ...), so
``import tfib`` stays cheap.
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "callbacks", "data", "distributions", "estimators", "experiments", "infoplane", "layers",
    "models", "ops", "runs", "training",
)


def __getattr__(name):
  if name in _SUBMODULES:
    return importlib.import_module(f"tfib.{name}")
  raise AttributeError(f"module 'tfib' has no attribute {name!r}")
