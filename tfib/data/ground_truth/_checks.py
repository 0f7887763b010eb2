"""Argument checks shared by the ground-truth task families, each failing with a ValueError
that names the argument and the value it got."""
import math
import numbers


def positive_int(name: str, value) -> int:
  """``value`` as an int, which must be an integer >= 1."""
  return bounded_int(name, value, lower=1)


def bounded_int(name: str, value, lower: int, upper: int = None) -> int:
  """``value`` as an int in [lower, upper] (no upper bound when ``upper`` is None)."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    raise ValueError(f"{name} must be an integer, got {value!r}.")
  value = int(value)
  if value < lower or (upper is not None and value > upper):
    bounds = f">= {lower}" if upper is None else f"in [{lower}, {upper}]"
    raise ValueError(f"{name} must be {bounds}, got {value}.")
  return value


def positive_float(name: str, value) -> float:
  """``value`` as a float, which must be finite and > 0."""
  value = finite_float(name, value)
  if value <= 0.0:
    raise ValueError(f"{name} must be > 0, got {value}.")
  return value


def nonnegative_float(name: str, value) -> float:
  """``value`` as a float, which must be finite and >= 0."""
  value = finite_float(name, value)
  if value < 0.0:
    raise ValueError(f"{name} must be >= 0, got {value}.")
  return value


def finite_float(name: str, value) -> float:
  """``value`` as a float, which must be a finite real number."""
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    raise ValueError(f"{name} must be a real number, got {value!r}.")
  value = float(value)
  if not math.isfinite(value):
    raise ValueError(f"{name} must be finite, got {value}.")
  return value
