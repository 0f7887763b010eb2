"""Property-based: every public estimator, on arrays a researcher might pass, gives a clear
error naming the problem or a finite result within its ceilings [0, log2 N] and [0, H(Y)]
(or, where a critic's training diverged, no number and a failed estimate saying so).

A bound below 0 (KDE's I(T;Y), the MINE family's held-out bounds) may be reported only with
a flag that says so.
"""
import math

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np

from tfib import estimators

COUNTING_AND_KDE = ["binning", "binning:scheme=saxe,bin_size=0.5", "binning:scheme=adaptive",
                    "binning:scheme=adaptive,per_neuron=True", "exact:bits=4", "exact:bits=8",
                    "exact:bits=32", "kde", "kde:noise_variance=1e-4"]
NEURAL = ["mine", "mine_f", "infonce", "nwj", "smile"]
TINY = dict(batch_size=4, max_steps=4, eval_every=2, patience=1, num_last=1,
            hidden_units=(4,), embedding_dim=2, steps_per_call=2, jit_compile=False)
CLEAR_ERRORS = (ValueError, TypeError, FloatingPointError)

_dtypes = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.uint8, np.int32,
                           np.bool_])


@st.composite
def _layers(draw, max_samples=24):
  num = draw(st.integers(0, max_samples))
  dims = draw(st.sampled_from([0, 1, 1, 2, 2, 3]))
  dtype = draw(_dtypes)
  if np.issubdtype(dtype, np.floating):
    elements = st.floats(allow_nan=True, allow_infinity=True, width=np.dtype(dtype).itemsize * 8)
    if draw(st.booleans()):  # Mostly finite, with extremes.
      elements = st.sampled_from([0.0, -0.0, 1e-30, 1.0, -1.0, 3e4, -6e4, 1e30])
  else:
    elements = None
  values = draw(hnp.arrays(dtype, (num, dims), elements=elements))
  if num > 1 and draw(st.booleans()):
    values[num // 2:] = values[0]  # Duplicated rows.
  labels = None
  if draw(st.booleans()):
    count = num if draw(st.integers(0, 9)) else num + 1  # Sometimes the wrong count.
    labels = draw(hnp.arrays(np.int64, (count,), elements=st.sampled_from(
        [0, 1, 2, -5, 2 ** 31, 2 ** 62])))
  return values, labels


def _check(estimator_spec, values, labels, **params):
  estimator = estimators.from_spec(estimator_spec) if not params else estimators.get(
      estimator_spec, **params)
  try:
    estimate = estimator.estimate(values, labels)
  except CLEAR_ERRORS as error:
    assert str(error).strip(), f"{type(error).__name__} without a message"
    return
  slack = 1e-9
  if estimate.i_xt is None:  # Training diverged: no number, a failed estimate saying why.
    assert estimate.failed and [f for f in estimate.flags if f.endswith("_diverged")], (
        estimate.flags)
  else:
    assert math.isfinite(estimate.i_xt)
  if not estimate.flags:
    assert -slack <= estimate.i_xt <= estimate.log2_n + slack
  if estimate.i_ty is not None:
    assert math.isfinite(estimate.i_ty)
    assert estimate.i_ty <= estimate.h_y + slack or estimate.flags
    assert estimate.i_ty >= -slack or estimate.flags
  assert estimate.failed == bool(estimate.failed)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(COUNTING_AND_KDE), layer=_layers())
def test_counting_and_kde_estimators(spec, layer):
  _check(spec, *layer)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NEURAL), layer=_layers(max_samples=40))
def test_neural_estimators_on_tiny_budgets(name, layer):
  _check(name, *layer, **TINY)
