"""An independent numpy oracle for the op tests (the `ops_path` fixture is in tests/conftest.py)."""
import collections

import numpy as np
import pytest


def _sum_count_log2_count(counter):
  counts = np.array(list(counter.values()), dtype=np.float64)
  return float(np.sum(counts * np.log2(counts)))


def numpy_code_entropies(codes, labels=None):
  """(H(T), H(T|Y), distinct rows) by counting row tuples with collections.Counter.

  H(T) = log2 N - (1/N) sum_t c_t log2 c_t and H(T|Y) = H(T,Y) - H(Y), in float64.
  """
  codes = np.asarray(codes)
  n = codes.shape[0]
  rows = [tuple(row) for row in codes.tolist()]
  row_counts = collections.Counter(rows)
  h_t = np.log2(n) - _sum_count_log2_count(row_counts) / n
  h_t_given_y = 0.0
  if labels is not None:
    labels = np.asarray(labels).tolist()
    pair_counts = collections.Counter(zip(rows, labels))
    label_counts = collections.Counter(labels)
    h_t_given_y = (_sum_count_log2_count(label_counts) - _sum_count_log2_count(pair_counts)) / n
  return float(h_t), float(h_t_given_y), len(row_counts)


@pytest.fixture(scope="session")
def numpy_oracle():
  """`numpy_code_entropies`: an implementation sharing no code with tfib."""
  return numpy_code_entropies
