"""Ground-truth MI tasks, each value checked against a reference computed here.

The references never use tfib's own numbers: determinants and Gaussian entropies recomputed
with numpy, scipy's special functions and densities, scipy quadrature, and Monte Carlo
estimates of E[log p(x, y) − log p(x) − log p(y)] with a tolerance of a few standard errors.
"""
import ast
import math
import pathlib

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats

from tfib.data import ground_truth as gt

PACKAGE_DIR = pathlib.Path(gt.__file__).parent
# The normal tasks the suite transforms, by dimension.
BASES = {3: gt.normal_sparse(3, 1.0, k=2), 5: gt.normal_sparse(5, 2.0, k=3),
         25: gt.normal_sparse(25, 2.0, k=5)}


def _gaussian_mi_by_determinants(covariance, dim_x):
  det = np.linalg.det
  return 0.5 * math.log(det(covariance[:dim_x, :dim_x]) * det(covariance[dim_x:, dim_x:]) /
                        det(covariance))


def _gaussian_mi_by_entropies(covariance, dim_x):
  """h(X) + h(Y) − h(X, Y) with scipy's Gaussian entropy."""
  def entropy(cov):
    return scipy.stats.multivariate_normal(cov=cov).entropy()
  return (entropy(covariance[:dim_x, :dim_x]) + entropy(covariance[dim_x:, dim_x:]) -
          entropy(covariance))


def _rotate_plane(values, angle, first=0):
  out = values.copy()
  cos, sin = np.cos(angle), np.sin(angle)
  a, b = values[:, first], values[:, first + 1]
  out[:, first] = cos * a - sin * b
  out[:, first + 1] = sin * a + cos * b
  return out


# ---------------------------------------------------------------- special functions


def test_digamma_matches_scipy():
  points = np.concatenate([np.geomspace(1e-6, 1e8, 400), np.arange(0.5, 30.0, 0.5),
                           [9.999999, 10.0, 10.000001]])
  ours = np.array([gt.digamma(p) for p in points])
  np.testing.assert_allclose(ours, scipy.special.digamma(points), rtol=1e-13, atol=1e-10)


def test_standard_normal_cdf_matches_ndtr():
  points = np.linspace(-38.0, 38.0, 20001)
  ours = gt.standard_normal_cdf(points)
  np.testing.assert_allclose(ours, scipy.special.ndtr(points), rtol=0.0, atol=1e-7)
  # Relative accuracy in the lower tail, where Φ is tiny.
  lower = (points < 0) & (points > -37)  # scipy's ndtr underflows to 0 below about −37.5.
  np.testing.assert_allclose(ours[lower], scipy.special.ndtr(points[lower]), rtol=1e-12)
  assert gt.standard_normal_cdf(0.5).shape == ()


# ---------------------------------------------------------------- normal


def test_gaussian_mi_equals_the_determinant_formula_for_a_random_covariance():
  rng = np.random.default_rng(3)
  a = rng.standard_normal((7, 7))
  covariance = a @ a.T + 0.5 * np.eye(7)
  expected = _gaussian_mi_by_determinants(covariance, 3)
  assert gt.gaussian_mi(covariance, 3) == pytest.approx(expected, rel=1e-10)
  assert gt.gaussian_mi(covariance, 3) == pytest.approx(_gaussian_mi_by_entropies(covariance, 3),
                                                        rel=1e-10)
  assert gt.normal(covariance, 3, name="random").mi_nats == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("dim_x, dim_y, mi", [(1, 1, 0.5), (2, 3, 1.0), (5, 5, 2.0),
                                              (25, 25, 5.0), (50, 50, 10.0)])
def test_dense_constructor_hits_its_target(dim_x, dim_y, mi):
  task = gt.normal_dense(dim_x, dim_y, mi)
  assert task.mi_nats == pytest.approx(mi, abs=1e-9)
  # The correlation solved here from I = −½ log(1 − ρ² m n), checked by determinants.
  rho = math.sqrt((1.0 - math.exp(-2.0 * mi)) / (dim_x * dim_y))
  covariance = np.block([[np.eye(dim_x), np.full((dim_x, dim_y), rho)],
                         [np.full((dim_y, dim_x), rho), np.eye(dim_y)]])
  np.testing.assert_array_equal(gt.dense_covariance(dim_x, dim_y, rho), covariance)
  assert _gaussian_mi_by_determinants(covariance, dim_x) == pytest.approx(mi, rel=1e-6)
  if mi <= 5.0:
    assert _gaussian_mi_by_entropies(covariance, dim_x) == pytest.approx(mi, abs=1e-9)


@pytest.mark.parametrize("dim, mi, k", [(1, 0.3, 1), (3, 2.0, 2), (10, 0.0, 10), (50, 10.0, 25)])
def test_sparse_constructor_hits_its_target(dim, mi, k):
  task = gt.normal_sparse(dim, mi, k)
  assert task.mi_nats == pytest.approx(mi, abs=1e-9)
  rho = math.sqrt(1.0 - math.exp(-2.0 * mi / k))
  covariance = np.eye(2 * dim)
  for i in range(k):
    covariance[i, dim + i] = covariance[dim + i, i] = rho
  np.testing.assert_array_equal(gt.sparse_covariance(dim, dim, rho, k), covariance)
  assert _gaussian_mi_by_entropies(covariance, dim) == pytest.approx(mi, abs=1e-9)


@pytest.mark.parametrize("kind, dim_x, dim_y, mi, k", [("dense", 3, 2, 2.0, 1),
                                                    ("dense", 10, 10, 10.0, 1),
                                                    ("sparse", 5, 5, 1.5, 3)])
def test_normal_samples_have_the_declared_covariance_and_information(kind, dim_x, dim_y, mi, k):
  """Sample covariance of 200k samples against Σ built here, each entry within 5 standard
  errors (at most √(2/N)); the Gaussian plug-in MI of it within 5 standard errors, about
  √(Σ s_i² / N) for canonical correlations s_i, plus its bias of about m n / (2N)."""
  task = gt.normal_dense(dim_x, dim_y, mi) if kind == "dense" else gt.normal_sparse(dim_x, mi, k)
  squared_canonical = 1.0 - math.exp(-2.0 * mi / k)
  expected = np.eye(dim_x + dim_y)
  if kind == "dense":
    expected[:dim_x, dim_x:] = math.sqrt(squared_canonical / (dim_x * dim_y))
  else:
    expected[:k, dim_x:dim_x + k] = math.sqrt(squared_canonical) * np.eye(k)
  expected[dim_x:, :dim_x] = expected[:dim_x, dim_x:].T
  num = 200_000
  x, y = task.sample(num, seed=11)
  covariance = np.cov(np.concatenate([x, y], axis=1).astype(np.float64), rowvar=False)
  np.testing.assert_allclose(covariance, expected, atol=5 * math.sqrt(2 / num))
  estimate = _gaussian_mi_by_entropies(covariance, dim_x)
  stderr = math.sqrt(k * squared_canonical / num)
  assert abs(estimate - task.mi_nats) < 5 * stderr + dim_x * dim_y / num


def test_dense_correlation_that_is_not_positive_definite_is_refused():
  with pytest.raises(ValueError, match=r"not positive definite.*1/sqrt\(dim_x \* dim_y\) = 0.2"):
    gt.dense_covariance(5, 5, 0.5)
  with pytest.raises(ValueError, match="not positive definite"):
    gt.normal(np.array([[1.0, 2.0], [2.0, 1.0]]), 1, name="bad")


# ---------------------------------------------------------------- transforms


def _wiggly_inverse(values, amplitude=0.4, frequency=2.0):
  """Bisection for u + a sin(ω u) = v; the root lies within |a| of v."""
  low, high = values - abs(amplitude), values + abs(amplitude)
  for _ in range(80):
    middle = 0.5 * (low + high)
    above = middle + amplitude * np.sin(frequency * middle) > values
    high = np.where(above, middle, high)
    low = np.where(above, low, middle)
  return 0.5 * (low + high)


def _spiral_inverse(first):
  """Czyż et al.'s published spiral, undone: w ↦ R(−‖w‖² / d) w in the plane (first,
  first + 1) (X: coordinates 0 and 1; Y of 3 or more coordinates: 1 and 2)."""
  return lambda values: _rotate_plane(
      values, -np.sum(values * values, axis=1) / values.shape[1], first)


INVERSES = {
    "half-cube": lambda v: np.sign(v) * np.abs(v) ** (2.0 / 3.0),
    "asinh": np.sinh,
    "normal-cdf": scipy.special.ndtri,
    "wiggly": _wiggly_inverse,
    "spiral": (_spiral_inverse(0), _spiral_inverse(1)),
}
TRANSFORMED = ["half-cube-3x3", "half-cube-25x25", "asinh-5x5", "normal-cdf-3x3", "wiggly-5x5",
               "spiral-3x3", "spiral-25x25"]


@pytest.mark.parametrize("name", TRANSFORMED)
def test_transformed_samples_are_a_bijection_of_the_base_samples(name):
  task = gt.get(name)
  inverse_x = inverse_y = INVERSES[name.rsplit("-", 1)[0]]
  if isinstance(inverse_x, tuple):
    inverse_x, inverse_y = inverse_x
  base = BASES[task.dim_x]
  assert task.mi_nats == base.mi_nats
  # float64 through the samplers: the inverse recovers the base draws.
  x64, y64 = task.sampler(np.random.default_rng(5), 2000)
  bx64, by64 = base.sampler(np.random.default_rng(5), 2000)
  np.testing.assert_allclose(inverse_x(x64), bx64, atol=1e-8)
  np.testing.assert_allclose(inverse_y(y64), by64, atol=1e-8)
  # float32 through Task.sample, to 1e-5 (for Φ only where float32 resolves Φ's upper tail).
  x, y = task.sample(2000, seed=5)
  bx, by = base.sample(2000, seed=5)
  for transformed, original, inverse in ((x, bx, inverse_x), (y, by, inverse_y)):
    resolved = original < 2.5 if name.startswith("normal-cdf") else np.ones_like(original, bool)
    recovered = inverse(transformed.astype(np.float64))
    np.testing.assert_allclose(recovered[resolved], original[resolved], atol=1e-5)
  assert np.max(np.abs(x - bx)) > 0.1


@pytest.mark.parametrize("name", ["half-cube-3x3", "asinh-3x3", "normal-cdf-3x3", "wiggly-3x3"])
def test_coordinatewise_transforms_change_the_margins(name):
  x, _ = gt.get(name).sample(20_000, seed=2)
  # The base margins are N(0, 1); the 1% critical KS distance at this N is about 0.012.
  assert scipy.stats.kstest(x[:, 0], "norm").statistic > 0.03


@pytest.mark.parametrize("name", ["spiral-3x3", "spiral-25x25"])
def test_spiral_changes_the_joint_distribution(name):
  # An isotropic X keeps its law under a norm-dependent rotation; the pairing with Y does not.
  task = gt.get(name)
  x, y = task.sample(20_000, seed=2)
  bx, by = BASES[task.dim_x].sample(20_000, seed=2)
  assert abs(np.corrcoef(x[:, 0], y[:, 0])[0, 1] - np.corrcoef(bx[:, 0], by[:, 0])[0, 1]) > 0.2


def test_transform_arguments_are_checked():
  with pytest.raises(ValueError, match=r"\|amplitude\| \* frequency < 1"):
    gt.wiggly(gt.normal_sparse(3, 1.0, k=1), amplitude=0.6, frequency=2.0)
  with pytest.raises(ValueError, match="at least 2 coordinates.*dim_x=1 and dim_y=1"):
    gt.spiral(gt.normal_dense(1, 1, 1.0))
  with pytest.raises(ValueError, match="Expected a Task"):
    gt.asinh("normal-dense-1x1-mi0.5")


def test_spiral_leaves_a_one_dimensional_variable_alone():
  base = gt.normal_dense(2, 1, 1.0)
  x, y = gt.spiral(base, speed=1.0).sample(100, seed=0)
  bx, by = base.sample(100, seed=0)
  np.testing.assert_array_equal(y, by)
  np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.linalg.norm(bx, axis=1), rtol=1e-6)
  assert np.max(np.abs(x - bx)) > 0.1


# ---------------------------------------------------------------- Student-t


def _t_pointwise_mi(samples, dim_x, dof, scale):
  def logpdf(block, cov):
    return scipy.stats.multivariate_t(np.zeros(len(cov)), cov, df=dof).logpdf(block)
  return (logpdf(samples, scale) - logpdf(samples[:, :dim_x], scale[:dim_x, :dim_x]) -
          logpdf(samples[:, dim_x:], scale[dim_x:, dim_x:]))


@pytest.mark.parametrize("dim_x, dim_y, dof, rho", [(1, 1, 1, 0.0), (1, 1, 3, 0.0),
                                                    (2, 2, 1, 0.0), (2, 2, 3, 0.6)])
def test_student_t_matches_monte_carlo_with_scipy_densities(dim_x, dim_y, dof, rho):
  scale = gt.sparse_covariance(dim_x, dim_y, rho, k=1)
  task = (gt.student_t(dim_x, dim_y, dof) if rho == 0.0 else
          gt.student_t(dim_x, dim_y, dof, scale=scale, name="t"))
  num = 100_000
  # Samples from scipy: an independent check of the closed form.
  reference = scipy.stats.multivariate_t(np.zeros(dim_x + dim_y), scale, df=dof).rvs(
      num, random_state=7)
  pointwise = _t_pointwise_mi(reference, dim_x, dof, scale)
  stderr = pointwise.std() / math.sqrt(num)
  assert abs(pointwise.mean() - task.mi_nats) < 4 * stderr
  # Samples from the task: a check of its sampler.
  x, y = task.sample(num, seed=7)
  ours = _t_pointwise_mi(np.concatenate([x, y], axis=1).astype(np.float64), dim_x, dof, scale)
  assert abs(ours.mean() - task.mi_nats) < 4 * ours.std() / math.sqrt(num)


def test_student_t_information_is_positive_and_vanishes_in_the_normal_limit():
  for dims in (1, 2, 3, 5):
    values = [gt.student_t_correction(dof, dims, dims) for dof in (1, 2, 3, 5, 30, 1e3)]
    assert all(v > 0 for v in values) and values == sorted(values, reverse=True)
    assert values[-1] < 1e-4
  scale = gt.sparse_covariance(3, 3, 0.6, k=2)
  task = gt.student_t(3, 3, 3, scale=scale, name="t")
  assert task.mi_nats == pytest.approx(
      _gaussian_mi_by_determinants(scale, 3) + gt.student_t_correction(3, 3, 3), rel=1e-12)


# ---------------------------------------------------------------- additive uniform


@pytest.mark.parametrize("eps", [0.1, 0.5, 0.75, 2.0])
def test_additive_uniform_matches_numerical_integration(eps):
  def density(y):
    return max(0.0, min(1.0, y + eps) - max(0.0, y - eps)) / (2 * eps)

  def integrand(y):
    p = density(y)
    return -p * math.log(p) if p > 0 else 0.0

  kinks = sorted({-eps, eps, 1 - eps, 1 + eps})
  entropy_y = sum(scipy.integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-13)[0]
                  for a, b in zip(kinks[:-1], kinks[1:]))
  task = gt.additive_uniform(eps)
  assert task.mi_nats == pytest.approx(entropy_y - math.log(2 * eps), abs=1e-9)
  x, y = task.sample(10_000, seed=0)
  assert 0.0 <= x.min() and x.max() <= 1.0
  assert np.max(np.abs(y.astype(np.float64) - x)) <= eps * (1 + 1e-6)


# ---------------------------------------------------------------- discrete–continuous


def _mixture_log_posterior(x1, means, sigma, probs):
  """log p(y = k | x) [N, K] for the 1-d mixture, with scipy's normal density."""
  log_joint = np.log(probs) + scipy.stats.norm.logpdf(x1[:, None], means[None, :], sigma)
  return log_joint - scipy.special.logsumexp(log_joint, axis=1, keepdims=True)


@pytest.mark.parametrize("num_classes, separation, sigma, probs, dim", [
    (2, 2.0, 1.0, None, 1), (4, 2.0, 1.0, None, 1), (10, 2.0, 1.0, None, 1),
    (4, 3.0, 1.0, None, 3), (3, 1.0, 0.5, [0.6, 0.3, 0.1], 2)])
def test_discrete_continuous_matches_monte_carlo_and_quadrature(num_classes, separation, sigma,
                                                                probs, dim):
  task = gt.discrete_continuous(num_classes, separation=separation, sigma=sigma,
                                probabilities=probs, dim=dim)
  probs = np.full(num_classes, 1 / num_classes) if probs is None else np.asarray(probs)
  means = (np.arange(num_classes) - (num_classes - 1) / 2) * separation
  # Quadrature with scipy: I = h(X_1) − ½ log(2πe σ²).
  def integrand(v):
    q = float(np.sum(probs * scipy.stats.norm.pdf(v, means, sigma)))
    return -q * math.log(q) if q > 0 else 0.0
  entropy = scipy.integrate.quad(integrand, means[0] - 15 * sigma, means[-1] + 15 * sigma,
                                 points=list(means), limit=500, epsabs=1e-12)[0]
  assert task.mi_nats == pytest.approx(
      entropy - 0.5 * math.log(2 * math.pi * math.e * sigma ** 2), abs=1e-7)
  # Monte Carlo on the task's samples: mean of log p(y | x) − log p(y).
  num = 100_000
  x, y = task.sample(num, seed=4)
  assert x.shape == (num, dim) and y.shape == (num, 1) and y.dtype == np.float32
  labels = y[:, 0].astype(int)
  np.testing.assert_array_equal(labels, y[:, 0])
  np.testing.assert_allclose(np.bincount(labels, minlength=num_classes) / num, probs,
                             atol=5 * math.sqrt(0.25 / num))
  pointwise = (_mixture_log_posterior(x[:, 0].astype(np.float64), means, sigma, probs)
               [np.arange(num), labels] - np.log(probs[labels]))
  assert abs(pointwise.mean() - task.mi_nats) < 4 * pointwise.std() / math.sqrt(num)
  if dim > 1:  # The extra axes are noise independent of the label.
    assert abs(np.corrcoef(x[:, 1], y[:, 0])[0, 1]) < 5 / math.sqrt(num)


def test_well_separated_classes_carry_the_label_entropy():
  probs = [0.5, 0.25, 0.25]
  entropy_y = -sum(p * math.log(p) for p in probs)
  for separation in (39.0, 40.0, 1e6):
    task = gt.discrete_continuous(3, separation=separation, probabilities=probs)
    assert task.mi_nats == pytest.approx(entropy_y, abs=1e-12)


# ---------------------------------------------------------------- noisy channel


@pytest.mark.parametrize("eigenvalues, sigma, rotation_seed", [
    ([1.0, 0.5, 0.1], 0.5, None), ([4.0, 1.0], 1.0, None),
    (list(np.geomspace(10.0, 0.01, 10)), 0.3, 0)])
def test_noisy_channel_matches_the_joint_gaussian(eigenvalues, sigma, rotation_seed):
  task = gt.noisy_channel(eigenvalues, sigma, rotation_seed=rotation_seed)
  dim = len(eigenvalues)
  cov_t = np.diag(eigenvalues)
  joint = np.block([[cov_t, cov_t], [cov_t, cov_t + sigma ** 2 * np.eye(dim)]])
  assert task.mi_nats == pytest.approx(_gaussian_mi_by_determinants(joint, dim), rel=1e-10)
  # The samples: T has the given spectrum, T_σ − T is N(0, σ² I) independent of T.
  num = 200_000
  t, t_sigma = task.sample(num, seed=9)
  t, noise = t.astype(np.float64), (t_sigma.astype(np.float64) - t)
  sample_cov = np.cov(t, rowvar=False)
  np.testing.assert_allclose(np.linalg.eigvalsh(sample_cov)[::-1], eigenvalues,
                             rtol=5 * math.sqrt(2 / num), atol=1e-6)
  if rotation_seed is not None:
    assert np.max(np.abs(sample_cov - np.diag(np.diag(sample_cov)))) > 0.1
  np.testing.assert_allclose(np.cov(noise, rowvar=False), sigma ** 2 * np.eye(dim),
                             atol=5 * sigma ** 2 * math.sqrt(2 / num))
  cross = (t - t.mean(0)).T @ (noise - noise.mean(0)) / num
  np.testing.assert_allclose(cross, 0.0, atol=5 * sigma * math.sqrt(max(eigenvalues) / num))


# ---------------------------------------------------------------- suite


def test_suite_covers_every_family_with_unique_names():
  tasks = gt.suite()
  names = [task.name for task in tasks]
  assert 38 <= len(tasks) <= 50 and len(set(names)) == len(names)
  assert names == gt.names()
  for prefix in ("normal-dense", "normal-sparse", "half-cube", "asinh", "normal-cdf",
                 "spiral", "wiggly", "student-t", "additive-uniform", "discrete-continuous",
                 "noisy-channel"):
    assert any(name.startswith(prefix) for name in names), prefix
  dims = {task.dim_x for task in tasks if task.name.startswith("normal-")}
  assert {1, 2, 3, 5, 10, 25, 50} <= dims
  mis = [task.mi_nats for task in tasks]
  assert min(mis) == 0.0 and max(mis) == pytest.approx(10.0)
  assert sum(mi <= 2.0 for mi in mis) >= 25
  assert {"spiral-25x25", "normal-sparse-25x25-k5-mi2"} <= set(names)


@pytest.mark.parametrize("task", gt.suite(), ids=lambda task: task.name)
def test_suite_task_samples_are_typed_reproducible_and_seeded(task):
  x, y = task.sample(64, seed=1)
  assert x.shape == (64, task.dim_x) and y.shape == (64, task.dim_y)
  assert x.dtype == np.float32 and y.dtype == np.float32
  assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
  again_x, again_y = task.sample(64, seed=1)
  np.testing.assert_array_equal(x, again_x)
  np.testing.assert_array_equal(y, again_y)
  other_x, _ = task.sample(64, seed=2)
  assert not np.array_equal(x, other_x)
  assert gt.get(task.name) is task
  assert task.mi_bits == pytest.approx(task.mi_nats / math.log(2))


def test_get_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match="Unknown ground-truth task 'gaussian-7'.*spiral-3x3"):
    gt.get("gaussian-7")


@pytest.mark.parametrize("call, message", [
    (lambda: gt.get("spiral-3x3").sample(0, seed=0), "num_samples must be >= 1, got 0"),
    (lambda: gt.get("spiral-3x3").sample(2.5, seed=0), "num_samples must be an integer"),
    (lambda: gt.get("spiral-3x3").sample(True, seed=0), "num_samples must be an integer"),
    (lambda: gt.get("spiral-3x3").sample(10, seed=-1), "seed must be >= 0, got -1"),
    (lambda: gt.normal_sparse(5, 1.0, k=6), r"k must be in \[1, 5\], got 6"),
    (lambda: gt.normal_sparse(5, -1.0, k=2), "mi_nats must be >= 0"),
    (lambda: gt.normal_sparse(5, 30.0, k=2), "more than 12.0 nats on one correlated pair"),
    (lambda: gt.normal_dense(0, 3, 1.0), "dim_x must be >= 1, got 0"),
    (lambda: gt.sparse_covariance(2, 2, 1.0, k=1), r"rho must lie in \(-1, 1\)"),
    (lambda: gt.student_t(2, 2, 0.0), "dof must be > 0"),
    (lambda: gt.student_t(1, 1, 3, scale=np.eye(3), name="t"), r"scale must have shape \(2, 2\)"),
    (lambda: gt.student_t(1, 1, 3, scale=np.eye(2)), "needs a name"),
    (lambda: gt.additive_uniform(0.0), "epsilon must be > 0"),
    (lambda: gt.discrete_continuous(1), "num_classes must be >= 2"),
    (lambda: gt.discrete_continuous(2, probabilities=[0.5, 0.6]), "must sum to 1"),
    (lambda: gt.discrete_continuous(2, probabilities=[1.0]), "one value per class"),
    (lambda: gt.noisy_channel([1.0, -0.5], 1.0), "eigenvalues must be finite and >= 0"),
    (lambda: gt.noisy_channel([1.0], 0.0), "sigma must be > 0"),
    (lambda: gt.digamma(0.0), "x must be > 0"),
    (lambda: gt.gaussian_mi(np.eye(3), 3), r"dim_x must be in \[1, 2\], got 3"),
    (lambda: gt.Task("t", 1, 1, -0.1, lambda rng, n: (None, None)), "mi_nats must be >= 0"),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, message):
  with pytest.raises(ValueError, match=message):
    call()


def test_a_sampler_of_the_wrong_shape_is_reported():
  task = gt.Task("broken", 2, 1, 0.0, lambda rng, n: (rng.standard_normal((n, 3)),
                                                       np.zeros((n, 1))))
  with pytest.raises(ValueError, match=r"'broken' returned x of shape \(4, 3\), expected \(4, 2\)"):
    task.sample(4, seed=0)


def test_the_package_uses_only_numpy_and_the_standard_library():
  allowed = {"numpy", "math", "numbers", "dataclasses", "functools", "typing"}
  for path in PACKAGE_DIR.glob("*.py"):
    for node in ast.walk(ast.parse(path.read_text())):
      if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
      elif isinstance(node, ast.ImportFrom):
        modules = [node.module]
      else:
        continue
      for module in modules:
        assert module.split(".")[0] in allowed or module.startswith("tfib.data.ground_truth"), (
            f"{path.name} imports {module}")
