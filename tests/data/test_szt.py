import numpy as np
import scipy.io

from tfib.data import icosahedron_vertices, szt


def test_equals_original_file_for_all_rows(shared_data):
  original = scipy.io.loadmat(shared_data / "var_u.mat")
  x, y = szt()
  assert x.shape == (4096, 12) and y.shape == (4096,)
  np.testing.assert_array_equal(x, original["F"])
  np.testing.assert_array_equal(y, original["y"].ravel())


def test_label_balance_and_types():
  x, y = szt()
  assert x.dtype == np.float32 and y.dtype == np.int32
  assert y.sum() == 2118  # P(y = 1) = 0.517, as in the paper.
  assert len(np.unique(x, axis=0)) == 4096


def test_vertices_form_an_icosahedron():
  vertices = icosahedron_vertices()
  np.testing.assert_allclose(np.linalg.norm(vertices, axis=1), 1.0)
  cosines = vertices @ vertices.T
  off_diagonal = cosines[~np.eye(12, dtype=bool)]
  expected = sorted([1 / 5 ** 0.5] * 60 + [-1 / 5 ** 0.5] * 60 + [-1.0] * 12)
  np.testing.assert_allclose(sorted(off_diagonal), expected, atol=1e-12)


def test_label_is_invariant_under_a_rotation_of_the_icosahedron():
  # A 72° rotation about the axis through vertex 0 permutes the vertices; a spherically
  # symmetric label must not change when the bits are permuted accordingly.
  vertices = icosahedron_vertices()
  axis = vertices[0]
  angle = 2 * np.pi / 5
  k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
  rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
  rotated = vertices @ rotation.T
  permutation = np.argmin(np.linalg.norm(rotated[:, None] - vertices[None], axis=2), axis=1)
  assert sorted(permutation) == list(range(12)) and (permutation != np.arange(12)).any()
  x, y = szt()
  moved = np.zeros_like(x)
  moved[:, permutation] = x
  index = (moved @ (2 ** np.arange(11, -1, -1))).astype(int)
  np.testing.assert_array_equal(y[index], y)
