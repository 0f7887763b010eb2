"""The Python face of the C++ ops in kernels/, each with a pure-TensorFlow reference.

The compiled library is loaded on first use; if it is missing or does not load, tfib warns
once and runs the reference, which gives the same numbers. ``TFIB_REFERENCE_OPS=1`` forces the
reference; `active_path()` tells which path an op call takes now.
"""
from tfib.ops.counting import CodeEntropies
from tfib.ops.counting import code_entropies
from tfib.ops.loader import REFERENCE_ENV_VAR
from tfib.ops.loader import active_path

__all__ = ["CodeEntropies", "REFERENCE_ENV_VAR", "active_path", "code_entropies"]
