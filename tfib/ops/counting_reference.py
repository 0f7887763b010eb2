"""Pure-TensorFlow reference of the TfibCodeEntropies op (kernels/counting_ops.cc).

It gives the kernel's numbers with stock TensorFlow ops, so it also runs where the compiled
library is missing, and tests compare the two. Equal rows are found by
``tf.raw_ops.UniqueWithCountsV2`` along axis 0; (row, label) pairs as the rows of the codes
with the label appended as one more column. With counts c,

    H(T)   = log2 N - (1/N) sum_t c_t log2 c_t
    H(T|Y) = (1/N) (sum_y c_y log2 c_y - sum_{t,y} c_ty log2 c_ty)

in bits and float64, both clamped at 0 against rounding, as in the kernel.
"""
import math

import tensorflow as tf

_LN2 = math.log(2.0)


def code_entropies(codes, labels=None):
  """(h_t, h_t_given_y, num_distinct) as float64, float64 and int64 scalar tensors.

  Args:
    codes: [N, D] tensor of dtype uint8, int16 or int32, N >= 1 and D >= 1.
    labels: [N] int32 tensor of non-negative labels, or None (then h_t_given_y is 0).

  Raises:
    tf.errors.InvalidArgumentError: for the run-time checks the kernel makes too: an empty
      ``codes``, a length of ``labels`` other than N, or a negative label.
  """
  checks = [tf.debugging.assert_positive(
      tf.shape(codes), message="codes must have N >= 1 rows and D >= 1 columns")]
  if labels is not None:
    checks += [
        tf.debugging.assert_equal(
            tf.shape(labels)[0], tf.shape(codes)[0],
            message="labels must be a vector [N] with N the rows of codes"),
        tf.debugging.assert_non_negative(labels, message="labels must be non-negative"),
    ]
  with tf.control_dependencies(checks):  # Everything below reads checked inputs.
    codes = tf.identity(codes)
    labels = None if labels is None else tf.identity(labels)
  n = tf.cast(tf.shape(codes)[0], tf.float64)
  row_counts = _row_counts(codes)
  h_t = _at_least_zero(tf.math.log(n) / _LN2 - _sum_count_log2_count(row_counts) / n)
  num_distinct = tf.size(row_counts, out_type=tf.int64)
  if labels is None:
    return h_t, tf.constant(0.0, tf.float64), num_distinct
  pairs = tf.concat([tf.cast(codes, tf.int32), labels[:, tf.newaxis]], axis=1)
  _, _, label_counts = tf.unique_with_counts(labels, out_idx=tf.int64)
  h_t_given_y = _at_least_zero(
      (_sum_count_log2_count(label_counts) - _sum_count_log2_count(_row_counts(pairs))) / n)
  return h_t, h_t_given_y, num_distinct


def _row_counts(matrix):
  """How many times each distinct row of ``matrix`` occurs."""
  _, _, counts = tf.raw_ops.UniqueWithCountsV2(x=matrix, axis=[0], out_idx=tf.int64)
  return counts


def _sum_count_log2_count(counts):
  """sum c log2 c over the counts, in float64."""
  c = tf.cast(counts, tf.float64)
  return tf.reduce_sum(c * tf.math.log(c)) / _LN2


def _at_least_zero(entropy):
  """Clamps a float64 entropy at 0: rounding may leave -1e-16 where the exact value is 0."""
  return tf.maximum(entropy, tf.zeros_like(entropy))
