"""Estimators by name, so binaries, callbacks and flagfiles share one vocabulary.

    estimator = tfib.estimators.get("binning", num_bins=30)
    estimate = estimator.estimate(activations, labels)
"""
import ast
import inspect
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
  valid = parameters(name)
  unknown = [key for key in params if key not in valid]
  if unknown:
    raise ValueError(f"Unknown parameter{'s' if len(unknown) > 1 else ''} "
                     f"{', '.join(map(repr, unknown))} for estimator {name!r}; its "
                     f"parameters are: {', '.join(valid)}.")
  return cls(**params)


def _signature(cls):
  return inspect.signature(cls.__init__)


def parameters(name: str):
  """The names of the parameters estimator ``name`` takes (its own and its base class's)."""
  names_seen = []
  for klass in _ESTIMATORS[name].__mro__:
    if "__init__" not in vars(klass):
      continue
    for parameter in _signature(klass).parameters.values():
      if parameter.name != "self" and parameter.kind in (
          inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
        if parameter.name not in names_seen:
          names_seen.append(parameter.name)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD
               for p in _signature(klass).parameters.values()):
      break
  return names_seen


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
  except (TypeError, ValueError) as error:
    raise ValueError(f"Bad estimator spec {spec!r}: {error}") from None
