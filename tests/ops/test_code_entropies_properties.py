"""Property tests: on random codes, both op paths agree with each other and with numpy."""
import hypothesis
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest

import tfib.ops
from tfib.ops import counting_reference

_DTYPES = (np.uint8, np.int16, np.int32)


@st.composite
def _codes(draw):
  """[N, D] codes: few symbols (many equal rows), any values, all rows equal or all distinct."""
  dtype = draw(st.sampled_from(_DTYPES))
  n = draw(st.integers(1, 80))
  d = draw(st.integers(1, 12))
  kind = draw(st.sampled_from(["few_symbols", "any_values", "all_equal", "all_distinct"]))
  if kind == "few_symbols":
    symbols = draw(st.integers(1, 3))
    return draw(hnp.arrays(dtype, (n, d), elements=st.integers(0, symbols - 1)))
  if kind == "any_values":
    return draw(hnp.arrays(dtype, (n, d)))
  if kind == "all_equal":
    return np.tile(draw(hnp.arrays(dtype, (1, d))), [n, 1])
  codes = draw(hnp.arrays(dtype, (n, d)))  # Row i gets i in its last column: all distinct.
  codes[:, -1] = np.arange(n)
  return codes


@st.composite
def _codes_and_labels(draw):
  codes = draw(_codes())
  if draw(st.booleans()):
    return codes, None
  num_classes = draw(st.integers(1, 5))
  labels = draw(hnp.arrays(np.int32, codes.shape[0], elements=st.integers(0, num_classes - 1)))
  return codes, labels


@hypothesis.settings(
    max_examples=150, deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(_codes_and_labels())
def test_agrees_with_reference_and_numpy(ops_path, numpy_oracle, codes_and_labels):
  codes, labels = codes_and_labels
  result = tfib.ops.code_entropies(codes, labels)
  got = (float(result.h_t), float(result.h_t_given_y), int(result.num_distinct))

  reference = counting_reference.code_entropies(codes, labels)
  assert got[:2] == pytest.approx([float(reference[0]), float(reference[1])], abs=1e-12)
  assert got[2] == int(reference[2])

  expected = numpy_oracle(codes, labels)
  assert got[:2] == pytest.approx(expected[:2], abs=1e-9)
  assert got[2] == expected[2]
  assert 0.0 <= got[1] <= got[0] + 1e-12 <= np.log2(codes.shape[0]) + 2e-12
