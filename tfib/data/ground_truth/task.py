"""`Task`: a joint distribution of (X, Y) whose mutual information is known exactly."""
import dataclasses
import math
from typing import Callable, Tuple

import numpy as np

from tfib.data.ground_truth import _checks

__all__ = ["Sampler", "Task"]

# sampler(rng, num_samples) -> (x [N, dim_x], y [N, dim_y]), any real dtype.
Sampler = Callable[[np.random.Generator, int], Tuple[np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Task:
  """A known-answer mutual-information task: samples of (X, Y) and the true I(X; Y).

  Attributes:
    name: unique, descriptive name, e.g. "normal-sparse-5x5-k2-mi1" or "student-t-1x1-dof1".
    dim_x: number of coordinates of X.
    dim_y: number of coordinates of Y.
    mi_nats: the true I(X; Y) in nats (`mi_bits` gives bits, the unit of tfib's estimates).
    sampler: ``sampler(rng, num_samples) -> (x, y)`` drawing every random number from
      ``rng``; `sample` wraps it.
  """

  name: str
  dim_x: int
  dim_y: int
  mi_nats: float
  sampler: Sampler = dataclasses.field(repr=False, compare=False)

  def __post_init__(self):
    if not isinstance(self.name, str) or not self.name:
      raise ValueError(f"name must be a non-empty string, got {self.name!r}.")
    _checks.positive_int("dim_x", self.dim_x)
    _checks.positive_int("dim_y", self.dim_y)
    _checks.nonnegative_float("mi_nats", self.mi_nats)
    if not callable(self.sampler):
      raise ValueError(f"sampler must be callable, got {self.sampler!r}.")

  @property
  def mi_bits(self) -> float:
    """The true I(X; Y) in bits."""
    return self.mi_nats / math.log(2.0)

  def sample(self, num_samples: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """``num_samples`` i.i.d. draws of (X, Y): x [N, dim_x] and y [N, dim_y], float32.

    The draws are a pure function of ``seed`` (a non-negative integer): they come from
    ``numpy.random.default_rng(seed)`` alone, so equal seeds give equal arrays.
    """
    num_samples = _checks.positive_int("num_samples", num_samples)
    seed = _checks.bounded_int("seed", seed, lower=0)
    x, y = self.sampler(np.random.default_rng(seed), num_samples)
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    for variable, array, dim in (("x", x, self.dim_x), ("y", y, self.dim_y)):
      if array.shape != (num_samples, dim):
        raise ValueError(f"The sampler of task {self.name!r} returned {variable} of shape "
                         f"{array.shape}, expected {(num_samples, dim)}.")
    return x, y
