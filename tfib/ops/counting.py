"""Entropies of discrete codes by exact counting: H(T), H(T|Y) and the number of codes.

Counting estimators of the information bottleneck (binning, exact-quantized; Shwartz-Ziv &
Tishby 2017, Lorenzen et al. 2022) give each example one discrete code T, a row of an
[N, D] integer matrix, and estimate with the empirical distribution of the N rows:

    H(T)   = log2 N - (1/N) sum_t c_t log2 c_t                 (c_t: rows equal to t)
    H(T|Y) = H(T,Y) - H(Y)
    I(X;T) = H(T)           (T is a function of X)
    I(T;Y) = H(T) - H(T|Y)

in bits. Caveat: H(T) <= log2 N; when every row is distinct (``num_distinct == N``) the
estimate is log2 N whatever the network does.

The counting runs in the C++ kernel of kernels/counting_ops.cc (one read of the codes, exact:
hash collisions never merge distinct rows) or, when that is unavailable or
``TFIB_REFERENCE_OPS=1``, in its pure-TensorFlow reference (counting_reference.py).
"""
import collections

import tensorflow as tf

from tfib.ops import counting_reference
from tfib.ops import loader

CodeEntropies = collections.namedtuple("CodeEntropies", ["h_t", "h_t_given_y", "num_distinct"])
CodeEntropies.__doc__ = """Result of `code_entropies`: scalar tensors, entropies in bits.

Attributes:
  h_t: float64, H(T), the entropy of the rows of the codes.
  h_t_given_y: float64, H(T|Y); 0 when no labels were given.
  num_distinct: int64, the number of distinct rows.
"""

# Code dtypes the kernel reads as they are.
_KERNEL_CODE_DTYPES = (tf.uint8, tf.int16, tf.int32)
# Other integer dtypes are reinterpreted (tf.bitcast) as one of those, each value as
# `width` values: rows are compared bit for bit, so equal rows stay equal and distinct
# rows stay distinct, at no cost and for every value.
_BITCAST_CODE_DTYPES = {  # dtype: (kernel dtype, width)
    tf.int8: (tf.uint8, 1),
    tf.uint16: (tf.int16, 1),
    tf.uint32: (tf.int32, 1),
    tf.int64: (tf.int32, 2),
    tf.uint64: (tf.int32, 2),
}
_INT32_MAX = 2**31 - 1


def code_entropies(codes, labels=None):
  """H(T) and H(T|Y) in bits of the rows T of ``codes`` and the ``labels`` Y, by counting.

  With c_t the number of rows equal to t, c_y the number of labels equal to y and c_ty the
  number of examples with row t and label y:

      H(T)   = log2 N - (1/N) sum_t c_t log2 c_t
      H(T|Y) = (1/N) (sum_y c_y log2 c_y - sum_{t,y} c_ty log2 c_ty)

  Args:
    codes: [N, D] integer array or tensor, N >= 1, D >= 1: one discrete code per example
      (e.g. binned or quantised activations of a layer). Any integer dtype.
    labels: [N] integer array or tensor of class labels in [0, 2^31 - 1], or None.

  Returns:
    A `CodeEntropies` (h_t, h_t_given_y, num_distinct) of float64, float64 and int64
    scalar tensors; h_t_given_y is 0 without labels.

  Raises:
    TypeError: if codes or labels are not integers (floats must be binned first).
    ValueError: if codes is not a non-empty matrix, or labels not a vector of length N.
    tf.errors.InvalidArgumentError: for a negative label, a label beyond int32, or (when
      shapes are only known at run time) the shape errors above.
  """
  codes = tf.convert_to_tensor(codes)
  _check_codes(codes)
  if labels is not None:
    labels = tf.convert_to_tensor(labels)
    _check_labels(labels, codes.shape[0])
    labels = _as_int32_labels(labels)
  codes = _as_kernel_codes(codes)
  if loader.active_path() == loader.KERNEL:
    return CodeEntropies(*_kernel_code_entropies(loader.op_library(), codes, labels))
  return CodeEntropies(*counting_reference.code_entropies(codes, labels))


def _kernel_code_entropies(library, codes, labels):
  if labels is None:
    h_t, num_distinct = library.tfib_code_entropies_unlabeled(codes)
    return h_t, tf.constant(0.0, tf.float64), num_distinct
  return library.tfib_code_entropies(codes, labels)


def _check_codes(codes):
  if not codes.dtype.is_integer:
    raise TypeError(
        "code_entropies: counting needs integer codes; quantise/bin activations first "
        f"(got codes of dtype {codes.dtype.name}).")
  if codes.shape.rank != 2:
    raise ValueError(
        "code_entropies: codes must be a matrix [N, D], one row per example "
        f"(got shape {codes.shape}).")
  if codes.shape[0] == 0 or codes.shape[1] == 0:
    raise ValueError(
        "code_entropies: codes is empty; it needs N >= 1 rows and D >= 1 columns "
        f"(got shape {codes.shape}).")


def _check_labels(labels, num_rows):
  if not labels.dtype.is_integer:
    raise TypeError(
        f"code_entropies: labels must be integer class labels (got dtype {labels.dtype.name}).")
  if labels.shape.rank != 1:
    raise ValueError(f"code_entropies: labels must be a vector [N] (got shape {labels.shape}).")
  if labels.shape[0] is not None and num_rows is not None and labels.shape[0] != num_rows:
    raise ValueError(
        f"code_entropies: labels has length {labels.shape[0]} but codes has N = {num_rows} "
        "rows; they must match.")


def _as_kernel_codes(codes):
  if codes.dtype in _KERNEL_CODE_DTYPES:
    return codes
  if codes.dtype in _BITCAST_CODE_DTYPES:
    dtype, width = _BITCAST_CODE_DTYPES[codes.dtype]
    return tf.reshape(tf.bitcast(codes, dtype), tf.shape(codes) * [1, width])
  return tf.cast(codes, tf.uint8)  # Sub-byte integers (int4, uint4): a one-to-one widening.


def _as_int32_labels(labels):
  """The labels as int32, the kernel's label dtype; wider labels are range-checked first."""
  if labels.dtype == tf.int32:
    return labels
  if labels.dtype.size < 4:  # Every value fits; a negative one is rejected by the op.
    return tf.cast(labels, tf.int32)
  in_range = tf.reduce_all(
      (labels >= 0) & (labels <= tf.constant(_INT32_MAX, labels.dtype)))
  check = tf.debugging.Assert(
      in_range, [f"code_entropies: labels of dtype {labels.dtype.name} must lie in "
                 "[0, 2^31 - 1] to be used as int32 class labels."])
  with tf.control_dependencies([check]):
    return tf.cast(labels, tf.int32)
