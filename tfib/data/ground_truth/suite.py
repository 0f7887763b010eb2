"""`suite()`: the standard ground-truth tasks, and `get(name)` to pick one.

About forty tasks after Czyż et al. (2023), "Beyond normal: on the evaluation of mutual
information estimators" (NeurIPS), covering every family of this package: normals with
dense and sparse correlation in 1 to 50 dimensions and 0 to 10 nats; each MI-preserving
transform of a 3×3 or 5×5 (and a 25×25) normal; Student-t pairs with 1 to 5 degrees of
freedom; additive uniform noise; class labels with Gaussian inputs; and layer-like noisy
Gaussian channels. Most families include tasks with I(X; Y) ≤ 2 nats, where estimators
can be compared without the large-MI bias every bound has (Poole et al. 2019).
"""
import functools
from typing import List, Tuple

import numpy as np

from tfib.data.ground_truth.additive_uniform import additive_uniform
from tfib.data.ground_truth.discrete_continuous import discrete_continuous
from tfib.data.ground_truth.noisy_channel import noisy_channel
from tfib.data.ground_truth.normal import normal_dense, normal_sparse, sparse_covariance
from tfib.data.ground_truth.student_t import student_t
from tfib.data.ground_truth.task import Task
from tfib.data.ground_truth.transforms import asinh, half_cube, normal_cdf, spiral, wiggly

__all__ = ["get", "names", "suite"]


def suite() -> List[Task]:
  """The standard tasks, in a fixed order, with unique names."""
  return list(_suite())


def names() -> List[str]:
  """The names of the `suite` tasks, in its order."""
  return [task.name for task in _suite()]


def get(name: str) -> Task:
  """The `suite` task called ``name``."""
  for task in _suite():
    if task.name == name:
      return task
  raise ValueError(f"Unknown ground-truth task {name!r}; the known tasks are: "
                   f"{', '.join(names())}.")


@functools.lru_cache(maxsize=1)
def _suite() -> Tuple[Task, ...]:
  normals = [
      normal_dense(1, 1, 0.5),
      normal_dense(2, 2, 1.0),
      normal_dense(3, 3, 2.0),
      normal_dense(5, 5, 1.0),
      normal_dense(10, 10, 2.0),
      normal_dense(25, 25, 5.0),
      normal_dense(50, 50, 10.0),
      normal_sparse(2, 1.0, k=2),
      normal_sparse(3, 2.0, k=2),
      normal_sparse(5, 5.0, k=5),
      normal_sparse(10, 0.0, k=10),
      normal_sparse(10, 2.0, k=3),
      normal_sparse(25, 2.0, k=5),
      normal_sparse(50, 5.0, k=10),
      normal_sparse(50, 10.0, k=25),
  ]
  base_3, base_5, base_25 = (normal_sparse(3, 1.0, k=2), normal_sparse(5, 2.0, k=3),
                             normal_sparse(25, 2.0, k=5))
  transformed = [
      half_cube(base_3, name="half-cube-3x3"),
      half_cube(base_25, name="half-cube-25x25"),
      asinh(base_3, name="asinh-3x3"),
      asinh(base_5, name="asinh-5x5"),
      normal_cdf(base_3, name="normal-cdf-3x3"),
      normal_cdf(base_5, name="normal-cdf-5x5"),
      spiral(base_3, name="spiral-3x3"),
      spiral(base_5, name="spiral-5x5"),
      spiral(base_25, name="spiral-25x25"),
      wiggly(base_3, name="wiggly-3x3"),
      wiggly(base_5, name="wiggly-5x5"),
  ]
  students = [student_t(dims, dims, dof)
              for dims, dof in ((1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (3, 3), (5, 2),
                                (5, 3), (5, 5))]
  students.append(student_t(3, 3, 3, scale=sparse_covariance(3, 3, 0.6, k=2),
                            name="student-t-3x3-dof3-sparse-k2-rho0.6"))
  others = [
      additive_uniform(0.1),
      additive_uniform(0.75),
      discrete_continuous(2),
      discrete_continuous(4),
      discrete_continuous(10),
      discrete_continuous(4, separation=3.0, dim=3),
      noisy_channel([1.0, 0.5, 0.1], sigma=0.5),
      noisy_channel([4.0, 1.0], sigma=1.0),
      noisy_channel(np.geomspace(10.0, 0.01, 10), sigma=0.3, rotation_seed=0),
  ]
  return tuple(normals + transformed + students + others)
