"""Mutual-information estimators, one module each, all returning `MIEstimate` in bits.

Every estimator is registered by name: ``tfib.estimators.get("binning", num_bins=30)``.
"""
from tfib.estimators.registry import from_spec, get, names, register
from tfib.estimators.result import MIEstimate

# Importing a module registers its estimators.
from tfib.estimators import binning  # noqa: E402,F401  pylint: disable=g-bad-import-order
from tfib.estimators import exact_quantized  # noqa: E402,F401
from tfib.estimators import kde  # noqa: E402,F401
from tfib.estimators import mine  # noqa: E402,F401

__all__ = ["MIEstimate", "from_spec", "get", "names", "register"]
