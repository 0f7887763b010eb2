"""tfib.ops.code_entropies on both paths: known values, independent oracles, bad inputs."""
import math

import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics

import tfib.ops

_ATOL = 1e-9


def _as_floats(result):
  return float(result.h_t), float(result.h_t_given_y), int(result.num_distinct)


def _assert_matches(result, expected):
  h_t, h_t_given_y, num_distinct = _as_floats(result)
  assert h_t == pytest.approx(expected[0], abs=_ATOL)
  assert h_t_given_y == pytest.approx(expected[1], abs=_ATOL)
  assert num_distinct == expected[2]


def test_known_values(ops_path):
  codes = np.array([[0, 0], [0, 0], [1, 0], [1, 1]], np.uint8)
  labels = np.array([0, 1, 0, 1], np.int32)
  # Counts of rows 2, 1, 1: H(T) = 2 - (2 log2 2) / 4 = 1.5. Given either label, T takes
  # two values once each: H(T|Y) = 1.
  _assert_matches(tfib.ops.code_entropies(codes, labels), (1.5, 1.0, 3))


def test_result_type_and_dtypes(ops_path):
  result = tfib.ops.code_entropies(np.zeros([3, 2], np.uint8), np.array([0, 1, 1]))
  assert isinstance(result, tfib.ops.CodeEntropies)
  assert [t.dtype for t in result] == [tf.float64, tf.float64, tf.int64]
  assert all(t.shape == [] for t in result)


def test_without_labels_conditional_entropy_is_zero(ops_path, numpy_oracle):
  codes = np.random.default_rng(0).integers(0, 3, size=[300, 4]).astype(np.int32)
  result = tfib.ops.code_entropies(codes)
  _assert_matches(result, numpy_oracle(codes))
  assert float(result.h_t_given_y) == 0.0


@pytest.mark.parametrize("num_bins", [2, 4, 30])
def test_mutual_information_matches_sklearn(ops_path, num_bins):
  rng = np.random.default_rng(num_bins)
  labels = rng.integers(0, 10, size=2000)
  codes = (rng.integers(0, num_bins, size=[2000, 3]) + labels[:, None] % num_bins) % num_bins
  result = tfib.ops.code_entropies(codes.astype(np.uint8), labels)
  _, row_ids = np.unique(codes, axis=0, return_inverse=True)
  expected_bits = metrics.mutual_info_score(labels, row_ids.ravel()) / math.log(2.0)
  assert float(result.h_t - result.h_t_given_y) == pytest.approx(expected_bits, abs=1e-9)


@pytest.mark.parametrize("dtype", [
    np.uint8, np.int16, np.int32, np.int8, np.uint16, np.uint32, np.int64, np.uint64])
def test_integer_dtypes(ops_path, numpy_oracle, dtype):
  info = np.iinfo(dtype)
  rng = np.random.default_rng(1)
  extremes = np.array([info.min, info.max, 0, 1], dtype=dtype)
  codes = extremes[rng.integers(0, 4, size=[500, 3])]
  labels = rng.integers(0, 3, size=500)
  _assert_matches(tfib.ops.code_entropies(codes, labels), numpy_oracle(codes, labels))


@pytest.mark.parametrize("dtype", [tf.dtypes.experimental.int4, tf.dtypes.experimental.uint4])
def test_sub_byte_dtypes(ops_path, numpy_oracle, dtype):
  rng = np.random.default_rng(6)
  values = rng.integers(dtype.min, dtype.max + 1, size=[300, 2])
  labels = rng.integers(0, 3, size=300)
  codes = tf.cast(tf.constant(values, tf.int32), dtype)
  _assert_matches(tfib.ops.code_entropies(codes, labels), numpy_oracle(values, labels))


def test_int64_codes_differing_only_beyond_int32_are_distinct(ops_path):
  codes = np.array([[1], [1 + 2**32], [1 + 2**40], [1]], np.int64)
  assert int(tfib.ops.code_entropies(codes).num_distinct) == 3


@pytest.mark.parametrize("labels_dtype", [np.uint8, np.int16, np.int64, np.uint32, np.uint64])
def test_integer_label_dtypes(ops_path, numpy_oracle, labels_dtype):
  rng = np.random.default_rng(2)
  codes = rng.integers(0, 2, size=[200, 3]).astype(np.uint8)
  labels = rng.integers(0, 5, size=200).astype(labels_dtype)
  _assert_matches(tfib.ops.code_entropies(codes, labels), numpy_oracle(codes, labels))


def test_labels_up_to_int32_max(ops_path, numpy_oracle):
  codes = np.array([[0], [1], [0], [1]], np.uint8)
  labels = np.array([0, 2**31 - 1, 2**31 - 1, 0], np.int64)
  _assert_matches(tfib.ops.code_entropies(codes, labels), numpy_oracle(codes, labels))


def test_accepts_tensors_and_lists(ops_path):
  expected = _as_floats(tfib.ops.code_entropies(np.array([[1, 2], [1, 2], [3, 4]]), [0, 1, 1]))
  from_tensors = tfib.ops.code_entropies(
      tf.constant([[1, 2], [1, 2], [3, 4]]), tf.constant([0, 1, 1]))
  from_lists = tfib.ops.code_entropies([[1, 2], [1, 2], [3, 4]], [0, 1, 1])
  assert _as_floats(from_tensors) == expected
  assert _as_floats(from_lists) == expected


def test_one_byte_apart_deep_in_long_rows(ops_path, numpy_oracle):
  # 64 rows of 5,000 bytes; rows 10 and 20 differ from the rest only at byte 4,321, and
  # agree with each other, so there are 2 distinct rows.
  codes = np.tile(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8), [64, 1])
  codes[[10, 20], 4321] ^= 1
  labels = np.arange(64) % 2
  result = tfib.ops.code_entropies(codes, labels)
  assert int(result.num_distinct) == 2
  _assert_matches(result, numpy_oracle(codes, labels))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32])
def test_many_near_identical_rows(ops_path, numpy_oracle, dtype):
  # 3,000 copies of one long row, each changed in one random position to one of 3 values.
  rng = np.random.default_rng(4)
  codes = np.tile(rng.integers(0, 100, 257).astype(dtype), [3000, 1])
  codes[np.arange(3000), rng.integers(0, 257, 3000)] = rng.integers(0, 3, 3000)
  labels = rng.integers(0, 10, 3000)
  _assert_matches(tfib.ops.code_entropies(codes, labels), numpy_oracle(codes, labels))


def test_all_rows_equal(ops_path):
  labels = np.arange(1000) % 7
  _assert_matches(
      tfib.ops.code_entropies(np.full([1000, 33], 5, np.int16), labels), (0.0, 0.0, 1))


def test_all_rows_distinct(ops_path):
  n = 4096
  codes = np.stack([np.arange(n) % 64, np.arange(n) // 64], axis=1).astype(np.uint8)
  labels = np.arange(n) % 2  # H(Y) = 1, so H(T|Y) = log2 N - 1.
  _assert_matches(tfib.ops.code_entropies(codes, labels), (12.0, 11.0, n))


def test_single_row(ops_path):
  _assert_matches(tfib.ops.code_entropies(np.array([[7]], np.int32), [3]), (0.0, 0.0, 1))


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_inside_tf_function_with_unknown_shapes(ops_path, numpy_oracle, dtype):
  function = tf.function(
      tfib.ops.code_entropies,
      input_signature=[tf.TensorSpec([None, None], dtype), tf.TensorSpec([None], tf.int32)])
  rng = np.random.default_rng(5)
  codes = rng.integers(0, 2, size=[100, 4]).astype(dtype)
  labels = rng.integers(0, 3, size=100).astype(np.int32)
  _assert_matches(function(codes, labels), numpy_oracle(codes, labels))
  with pytest.raises(tf.errors.InvalidArgumentError, match="N >= 1 rows"):
    function(np.zeros([0, 4], dtype), np.zeros([0], np.int32))
  with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be a vector"):
    function(codes, labels[:50])


@pytest.mark.parametrize("codes", [
    np.zeros([4, 2], np.float32), np.zeros([4, 2], np.float64), np.zeros([4, 2], bool)])
def test_rejects_non_integer_codes(ops_path, codes):
  with pytest.raises(TypeError, match="counting needs integer codes; quantise/bin"):
    tfib.ops.code_entropies(codes)


@pytest.mark.parametrize("shape", [[4], [4, 2, 2], []])
def test_rejects_codes_not_a_matrix(ops_path, shape):
  with pytest.raises(ValueError, match=r"codes must be a matrix \[N, D\]"):
    tfib.ops.code_entropies(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [[0, 3], [3, 0], [0, 0]])
def test_rejects_empty_codes(ops_path, shape):
  with pytest.raises(ValueError, match="codes is empty"):
    tfib.ops.code_entropies(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("labels", [np.zeros([4, 1], np.int32), np.int32(0)])
def test_rejects_labels_not_a_vector(ops_path, labels):
  with pytest.raises(ValueError, match=r"labels must be a vector \[N\]"):
    tfib.ops.code_entropies(np.zeros([4, 2], np.uint8), labels)


def test_rejects_labels_of_other_length(ops_path):
  with pytest.raises(ValueError, match="labels has length 3 but codes has N = 4 rows"):
    tfib.ops.code_entropies(np.zeros([4, 2], np.uint8), np.zeros([3], np.int32))


@pytest.mark.parametrize("labels", [np.zeros([4], np.float32), np.zeros([4], bool)])
def test_rejects_non_integer_labels(ops_path, labels):
  with pytest.raises(TypeError, match="labels must be integer class labels"):
    tfib.ops.code_entropies(np.zeros([4, 2], np.uint8), labels)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64])
def test_rejects_negative_labels(ops_path, dtype):
  with pytest.raises(tf.errors.InvalidArgumentError, match="labels .*must"):
    tfib.ops.code_entropies(np.zeros([4, 2], np.uint8), np.array([0, 1, -1, 2], dtype))


@pytest.mark.parametrize("label", [2**31, 2**40, -(2**40)])
def test_rejects_labels_beyond_int32(ops_path, label):
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[0, 2\^31 - 1\]"):
    tfib.ops.code_entropies(np.zeros([2, 2], np.uint8), np.array([0, label], np.int64))
