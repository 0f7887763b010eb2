"""tfib: information-bottleneck analysis of neural networks for TensorFlow and Keras.

``import tfib`` registers every Keras object tfib defines (layers, the PixelCNN++ network,
critics, the learning-rate schedule), so ``keras.models.load_model`` reads a ``.keras``
file holding them; this imports Keras and TensorFlow. Other subpackages are imported on
first use (``tfib.estimators``, ``tfib.data``, ...).
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "callbacks", "data", "distributions", "estimators", "experiments", "infoplane", "layers",
    "models", "ops", "runs", "tensorboard_plugin", "training",
)
_KERAS_OBJECTS = ("tfib.layers", "tfib.distributions.pixelcnn_network",
                  "tfib.estimators.critics", "tfib.training.optimization")

for _module in _KERAS_OBJECTS:  # Importing a module registers its Keras objects.
  importlib.import_module(_module)


def __getattr__(name):
  if name in _SUBMODULES:
    return importlib.import_module(f"tfib.{name}")
  raise AttributeError(f"module 'tfib' has no attribute {name!r}")
