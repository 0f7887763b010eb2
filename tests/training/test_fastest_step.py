"""The fastest step variant: the choice, the margin bfloat16 must beat, the interleaving that
keeps a change of load from deciding, and the variants worth timing. A fake clock that each
step advances by its cost stands in for time."""
import pytest

from tfib.training import fastest_step, precision
from tfib.training.fastest_step import Variant

GRAPH, XLA = Variant(False, False), Variant(True, False)
GRAPH_BF16, XLA_BF16 = Variant(False, True), Variant(True, True)


class FakeClock:
  """Time that passes only when a step runs: ``cost(variant, round)`` seconds per step."""

  def __init__(self):
    self.now = 0.0
    self.calls = []

  def __call__(self):
    return self.now

  def steps(self, costs):
    """{variant: step} for ``costs`` {variant: seconds per step, or a function of how many
    steps of that variant ran before}."""
    def step(variant):
      self.calls.append(variant)
      cost = costs[variant]
      self.now += cost(self.calls.count(variant) - 1) if callable(cost) else cost
    return {variant: (lambda v=variant: step(v)) for variant in costs}


def _fastest(costs, **kwargs):
  clock = FakeClock()
  choice, rates = fastest_step.fastest(clock.steps(costs), clock=clock, **kwargs)
  return choice, rates, clock


def test_the_fastest_variant_is_chosen_with_its_rate():
  choice, rates, _ = _fastest({GRAPH: 0.1, XLA: 0.125})
  assert choice == GRAPH
  assert rates == {GRAPH: pytest.approx(10.0), XLA: pytest.approx(8.0)}
  assert _fastest({GRAPH: 0.1, XLA: 0.05})[0] == XLA


# Steps of 1/8 s, 8 per round: sums exact in binary floating point, so ties are ties.
@pytest.mark.parametrize("bfloat16_cost, chosen", [
    (0.125 / 1.04, GRAPH),  # 4% faster: within the margin, float32 keeps it.
    (0.125 / 1.06, GRAPH_BF16),  # 6% faster: beyond it.
    (0.125, GRAPH),  # A tie.
])
def test_bfloat16_must_beat_float32_by_the_margin(bfloat16_cost, chosen):
  assert fastest_step.BFLOAT16_MARGIN == 1.05
  for costs in ({GRAPH: 0.125, GRAPH_BF16: bfloat16_cost},
                {GRAPH_BF16: bfloat16_cost, GRAPH: 0.125}):  # Whichever comes first.
    assert _fastest(costs, steps_per_round=8)[0] == chosen


def test_float32_ties_go_to_the_first_variant():
  choice, rates, _ = _fastest({GRAPH: 0.125, XLA: 0.125}, steps_per_round=8)
  assert rates[GRAPH] == rates[XLA] == 8.0 and choice == GRAPH
  assert _fastest({XLA: 0.125, GRAPH: 0.125}, steps_per_round=8)[0] == XLA


def test_rounds_alternate_their_order_and_one_slow_round_does_not_decide():
  # A load spike makes the graph's second round 4x slower (its steps 12-21, after 2 of
  # warm-up and 10 of round 1): by the mean of its rounds it would lose to XLA.
  slowdown = lambda before: 0.4 if 12 <= before < 22 else 0.1
  choice, rates, clock = _fastest({GRAPH: slowdown, XLA: 0.11}, rounds=3, steps_per_round=10)
  assert choice == GRAPH and rates[GRAPH] == pytest.approx(10.0)
  # Two warm-up steps each, then rounds of 10 in the order G X, X G, G X.
  order = [GRAPH] * 2 + [XLA] * 2 + [GRAPH] * 10 + [XLA] * 20 + [GRAPH] * 20 + [XLA] * 10
  assert clock.calls == order


def test_nothing_to_time_is_refused():
  with pytest.raises(ValueError, match="at least one"):
    fastest_step.fastest({})
  with pytest.raises(ValueError, match="positive"):
    fastest_step.fastest({GRAPH: lambda: None}, rounds=0)


@pytest.mark.parametrize("hardware, jit, mixed, expected", [
    (True, None, None, [GRAPH, XLA, GRAPH_BF16, XLA_BF16]),
    (False, None, None, [GRAPH, XLA]),  # Emulated bfloat16 is not worth timing.
    (False, None, True, [GRAPH_BF16, XLA_BF16]),  # Asked for: timed anyway.
    (True, False, None, [GRAPH, GRAPH_BF16]),
    (True, True, False, [XLA]),
])
def test_the_variants_worth_timing(monkeypatch, hardware, jit, mixed, expected):
  monkeypatch.setattr(precision, "bfloat16_hardware", lambda: hardware)
  assert fastest_step.candidates(jit, mixed) == expected
