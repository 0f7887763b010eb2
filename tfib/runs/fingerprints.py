"""What identifies the model and the data of a run, for its manifest.

A run directory refuses to continue with another model or other data, so it records a
fingerprint of each: small enough to read in the list of differences, exact enough that
any change of architecture, weights' shapes or data values shows.
"""
import hashlib
import json
from typing import Any, Dict

import numpy as np

__all__ = ["array_fingerprint", "model_fingerprint"]


def array_fingerprint(array) -> Dict[str, Any]:
  """Shape, dtype and SHA-256 of an array's values."""
  array = np.ascontiguousarray(np.asarray(array))
  return {"shape": list(array.shape), "dtype": str(array.dtype),
          "sha256": hashlib.sha256(array.tobytes()).hexdigest()}


def _without_names(value):
  """A layer config without the names Keras numbers per process ("dense_7")."""
  if isinstance(value, dict):
    return {k: _without_names(v) for k, v in value.items() if k not in ("name", "seed")}
  if isinstance(value, (list, tuple)):
    return [_without_names(v) for v in value]
  return value


def model_fingerprint(model) -> Dict[str, Any]:
  """Class, parameter count, layer classes and a digest of the layers' configurations.

  Layer names are left out of the digest (Keras numbers unnamed layers per process), so the
  same architecture built again matches; the list of classes and the parameter count make a
  difference readable.
  """
  layers = [(type(layer).__name__, _without_names(layer.get_config())) for layer in model.layers]
  digest = hashlib.sha256(json.dumps(layers, sort_keys=True, default=repr).encode())
  return {"class": type(model).__name__, "parameters": int(model.count_params()),
          "layers": [name for name, _ in layers],
          "weight_shapes": [list(w.shape) for w in model.weights],
          "architecture_sha256": digest.hexdigest()}
