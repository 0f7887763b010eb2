"""The fastest variant of a training step on the device at hand, by measurement.

Whether XLA beats the plain graph, and mixed bfloat16 beats float32, is a property of the
device and moves with it: for the quick PixelCNN++ decoder on 2 CPU cores, XLA / plain graph
0.83x-1.04x and bfloat16 / float32 0.91x-1.51x on the same AMD EPYC on different days
(bench/bench_decoder_mi.py); on GPUs XLA usually wins. So tfib-decoder-mi's
``--jit_compile=auto`` and ``--mixed_precision=auto`` time the run's own step in each variant
(`fastest`) at the run's first start and record the choice in its manifest, where every later
job and resume of the run reads it.

The variants are timed in interleaved rounds, the order reversed every round, so that a
change of the machine's load falls on all of them, and each is scored by its median rate
over the rounds. bfloat16 must beat the fastest float32 variant by `BFLOAT16_MARGIN`: it
rounds the decoder's activations, so a tie goes to float32.
"""
import dataclasses
import statistics
import time
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from tfib.training import precision

__all__ = ["BFLOAT16_MARGIN", "Variant", "candidates", "fastest"]

BFLOAT16_MARGIN = 1.05


@dataclasses.dataclass(frozen=True)
class Variant:
  """One way of running the same training step."""
  jit_compile: bool
  mixed_precision: bool

  @property
  def name(self) -> str:
    return (f"{'XLA' if self.jit_compile else 'plain graph'}, "
            f"{'mixed bfloat16' if self.mixed_precision else 'float32'}")


def candidates(jit_compile: Optional[bool] = None,
               mixed_precision: Optional[bool] = None) -> List[Variant]:
  """The variants worth timing: a given choice as given, None (auto) both ways, except
  bfloat16 where the hardware has no bfloat16 arithmetic (`precision.bfloat16_hardware`)."""
  jits = [False, True] if jit_compile is None else [jit_compile]
  if mixed_precision is None:
    mixes = [False, True] if precision.bfloat16_hardware() else [False]
  else:
    mixes = [mixed_precision]
  return [Variant(jit, mixed) for mixed in mixes for jit in jits]


def fastest(steps: Mapping[Variant, Callable[[], object]], rounds: int = 3,
            steps_per_round: int = 10,
            clock: Callable[[], float] = time.perf_counter) -> Tuple[Variant, Dict[Variant, float]]:
  """The fastest of ``steps`` ({variant: one training step that returns once its result is
  on the host}) and every variant's median steps per second. Each step runs twice before
  the timing (tracing, compilation)."""
  if not steps:
    raise ValueError("fastest needs at least one variant to time.")
  variants = list(steps)
  if rounds < 1 or steps_per_round < 1:
    raise ValueError(f"rounds and steps_per_round must be positive, got {rounds} and "
                     f"{steps_per_round}.")
  for variant in variants:
    steps[variant]()
    steps[variant]()
  measured = {variant: [] for variant in variants}
  for round_index in range(rounds):
    for variant in variants if round_index % 2 == 0 else variants[::-1]:
      start = clock()
      for _ in range(steps_per_round):
        steps[variant]()
      measured[variant].append(steps_per_round / (clock() - start))
  rates = {variant: statistics.median(measured[variant]) for variant in variants}
  choice = max(variants, key=lambda v: rates[v] / (BFLOAT16_MARGIN if v.mixed_precision
                                                   else 1.0))
  return choice, rates
