"""Estimators by name, so binaries, callbacks and flagfiles share one vocabulary.

    estimator = tfib.estimators.get("binning", num_bins=30)
    estimate = estimator.estimate(activations, labels)
"""
import ast
from typing import Callable, Dict

_ESTIMATORS: Dict[str, Callable] = {}


def register(name: str):
  """Class decorator: makes ``get(name, **params)`` build the decorated estimator."""

  def decorate(cls):
    if name in _ESTIMATORS:
      raise ValueError(f"An estimator named {name!r} is already registered.")
    _ESTIMATORS[name] = cls
    cls.name = name
    return cls

  return decorate


def get(name: str, **params):
  """Builds the estimator registered as ``name`` with the given parameters."""
  try:
    cls = _ESTIMATORS[name]
  except KeyError:
    raise ValueError(
        f"Unknown estimator {name!r}; known estimators: {', '.join(names())}.") from None
  return cls(**params)


def names():
  """The registered estimator names, sorted."""
  return sorted(_ESTIMATORS)


def from_spec(spec: str):
  """Builds an estimator from ``"name"`` or ``"name:key=value,key=value"`` (flags, configs).

  Values are read as Python literals where they parse (30, 0.07, True) and as strings
  otherwise (scheme=saxe).
  """
  name, _, arguments = spec.strip().partition(":")
  params = {}
  for item in filter(None, (part.strip() for part in arguments.split(","))):
    key, equals, value = item.partition("=")
    if not equals or not key.strip():
      raise ValueError(f"Bad estimator spec {spec!r}: expected name:key=value,...")
    try:
      params[key.strip()] = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
      params[key.strip()] = value.strip()
  try:
    return get(name.strip(), **params)
  except TypeError as error:
    raise ValueError(f"Bad parameters in estimator spec {spec!r}: {error}") from None
