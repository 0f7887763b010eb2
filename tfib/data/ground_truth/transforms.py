"""Transforms that change the distribution of a task but not its mutual information.

The "beyond normal" tasks of Czyż et al. (2023), "Beyond normal: on the evaluation of
mutual information estimators" (NeurIPS): a normal task seen through smooth bijections,
which keep the answer while taking the samples away from the Gaussian an estimator may
implicitly assume (Poole et al. 2019 use a cubic map for the same purpose).

Mathematical details
--------------------
For injective, continuously differentiable f and g with differentiable inverses,

    I(f(X); g(Y)) = I(X; Y)

(the change of variables adds log |det Df| to both h(f(X)) and h(f(X) | g(Y)), and
likewise for g; Kraskov, Stögbauer & Grassberger 2004). Each transform below is applied
to X and to Y separately, so the transformed task keeps the base task's ``mi_nats``:

* half-cube  h(t) = sign(t) |t|^{3/2}, coordinate-wise (heavier tails);
* asinh      t ↦ asinh(t), coordinate-wise (lighter, logarithmic tails);
* normal-cdf t ↦ Φ(t), coordinate-wise: unit-variance normal margins become uniform on
  (0, 1);
* wiggly     t ↦ t + a sin(ω t), coordinate-wise, with |a| ω < 1 so that the derivative
  1 + a ω cos(ω t) stays positive (Czyż et al. use a sum of such terms);
* spiral     v ↦ R_ij(s ‖v‖² / d) v for a variable v of d >= 2 coordinates, with R_ij(θ)
  the rotation by θ in the plane of coordinates i and j: (0, 1) for X, (1, 2) for Y when
  it has three coordinates or more (else (0, 1)). It keeps the norm, so its inverse is
  w ↦ R_ij(−s ‖w‖² / d) w. This is Czyż et al.'s spiral diffeomorphism exp(s ‖v‖² A / d) v
  with A the generator of that rotation, as their published benchmark defines it (speed
  s = 1 normalised by the dimension, so that the mean angle E‖v‖²/d is s radians for unit
  variance coordinates in every dimension).

Sampling a transformed task draws the base task's samples from the same generator and maps
them, so ``transformed.sample(n, seed)`` is the image of ``base.sample(n, seed)``.
"""
from typing import Callable, Optional

import numpy as np

from tfib.data.ground_truth import _checks
from tfib.data.ground_truth.special import standard_normal_cdf
from tfib.data.ground_truth.task import Task

__all__ = ["asinh", "half_cube", "normal_cdf", "spiral", "wiggly"]

Map = Callable[[np.ndarray], np.ndarray]


def half_cube(task: Task, name: Optional[str] = None) -> Task:
  """``task`` seen through t ↦ sign(t) |t|^{3/2} in every coordinate of X and Y."""
  return _transformed(task, _half_cube, name, "half-cube")


def asinh(task: Task, name: Optional[str] = None) -> Task:
  """``task`` seen through t ↦ asinh(t) in every coordinate of X and Y."""
  return _transformed(task, np.arcsinh, name, "asinh")


def normal_cdf(task: Task, name: Optional[str] = None) -> Task:
  """``task`` seen through the standard normal CDF Φ in every coordinate of X and Y."""
  return _transformed(task, standard_normal_cdf, name, "normal-cdf")


def wiggly(task: Task, amplitude: float = 0.4, frequency: float = 2.0,
           name: Optional[str] = None) -> Task:
  """``task`` seen through t ↦ t + a sin(ω t) in every coordinate; needs |a| ω < 1."""
  amplitude = _checks.finite_float("amplitude", amplitude)
  frequency = _checks.positive_float("frequency", frequency)
  if abs(amplitude) * frequency >= 1.0:
    raise ValueError(f"wiggly needs |amplitude| * frequency < 1 to stay increasing, got "
                     f"{abs(amplitude)} * {frequency} = {abs(amplitude) * frequency}.")

  def wiggle(values: np.ndarray) -> np.ndarray:
    return values + amplitude * np.sin(frequency * values)

  return _transformed(task, wiggle, name, f"wiggly-a{amplitude:g}-w{frequency:g}")


def spiral(task: Task, speed: float = 1.0, name: Optional[str] = None) -> Task:
  """``task`` seen through v ↦ R(speed ‖v‖² / dim v) v on each variable of >= 2 coordinates
  (X rotated in the plane of its coordinates 0 and 1, Y in that of 1 and 2 when it has 3)."""
  _check_task(task)
  speed = _checks.finite_float("speed", speed)
  if speed == 0.0:
    raise ValueError("spiral speed must be non-zero (speed 0 is the identity).")
  if task.dim_x < 2 and task.dim_y < 2:
    raise ValueError(f"spiral rotates a variable of at least 2 coordinates; task "
                     f"{task.name!r} has dim_x={task.dim_x} and dim_y={task.dim_y}.")
  return _transformed(task, _twist(speed, 0), name, f"spiral-s{speed:.3g}",
                      map_y=_twist(speed, 1 if task.dim_y >= 3 else 0))


def _twist(speed: float, first: int) -> Map:
  """v ↦ R(speed ‖v‖² / dim v) v in the plane of coordinates (first, first + 1)."""

  def twist(values: np.ndarray) -> np.ndarray:
    if values.shape[1] < 2:
      return values
    angle = speed * np.sum(values * values, axis=1) / values.shape[1]
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = values[:, first], values[:, first + 1]
    twisted = values.copy()
    twisted[:, first] = cos * a - sin * b
    twisted[:, first + 1] = sin * a + cos * b
    return twisted

  return twist


def _half_cube(values: np.ndarray) -> np.ndarray:
  return np.sign(values) * np.abs(values) ** 1.5


def _transformed(task: Task, mapping: Map, name: Optional[str], prefix: str,
                 map_y: Optional[Map] = None) -> Task:
  """``task`` with ``mapping`` applied to x and ``map_y`` (default: ``mapping``) to y,
  named ``name`` or prefix-{task.name}."""
  _check_task(task)
  map_y = map_y or mapping

  def sampler(rng: np.random.Generator, num_samples: int):
    x, y = task.sampler(rng, num_samples)
    return (mapping(np.asarray(x, dtype=np.float64)),
            map_y(np.asarray(y, dtype=np.float64)))

  return Task(name=name or f"{prefix}-{task.name}", dim_x=task.dim_x, dim_y=task.dim_y,
              mi_nats=task.mi_nats, sampler=sampler)


def _check_task(task) -> None:
  if not isinstance(task, Task):
    raise ValueError(f"Expected a Task to transform, got {task!r}.")
