"""The 12-bit task of Shwartz-Ziv & Tishby (2017), generated exactly.

"Opening the black box of deep neural networks via information" trains its networks on all
4096 binary patterns of 12 bits, the bits standing for 12 points spread evenly on a sphere:
the vertices of an icosahedron. The label is a spherically symmetric function of the
pattern with a threshold, y = Θ(f(x) − θ), chosen so that P(y = 1) ≈ 0.5.

Mathematical details
--------------------
With v_i the unit vertex vectors and x ∈ {0, 1}^12, n = Σ x_i ones, tfib uses the
rotation-invariant quadratic form

    f(x) = ‖Σ_i x_i v_i‖² + α n + β n²,    α = 7,  β = −0.35,  θ = 32.23.

‖Σ x_i v_i‖² = n + 2 Σ_{i<j on} cos∠(v_i, v_j), and the cosine between two icosahedron
vertices is 1/√5 for neighbours, −1/√5 at distance two and −1 for antipodes, so the label
depends only on n and on the numbers of adjacent and antipodal pairs that are both on.
The paper does not publish f; this one reproduces all 4096 labels of the original data
file `var_u.mat` exactly (the test suite compares them; P(y = 1) = 0.517), with the file's
bit order: pattern k holds the binary digits of k, most significant bit first.
"""
import numpy as np

NUM_BITS = 12
_ALPHA, _BETA, _THETA = 7.0, -0.35, 32.23

# Icosahedron vertices (0, ±1, ±φ), (±1, ±φ, 0), (±φ, 0, ±1), in the order that matches
# the bit columns of var_u.mat (column i is vertex i).
_PHI = (1.0 + 5.0 ** 0.5) / 2.0
_VERTICES = np.array([
    (0, 1, _PHI), (1, _PHI, 0), (0, 1, -_PHI), (-1, _PHI, 0),
    (_PHI, 0, -1), (0, -1, _PHI), (1, -_PHI, 0), (-1, -_PHI, 0),
    (-_PHI, 0, -1), (0, -1, -_PHI), (-_PHI, 0, 1), (_PHI, 0, 1),
])


def icosahedron_vertices() -> np.ndarray:
  """The 12 unit vectors [12, 3] the input bits stand for."""
  return _VERTICES / np.linalg.norm(_VERTICES, axis=1, keepdims=True)


def szt():
  """All 4096 inputs [4096, 12] (float32, 0/1) and their labels [4096] (int32, 0/1)."""
  codes = np.arange(2 ** NUM_BITS)
  x = (codes[:, None] >> np.arange(NUM_BITS - 1, -1, -1)) & 1
  vertices = icosahedron_vertices()
  resultant = x @ vertices
  n = x.sum(axis=1)
  f = (resultant ** 2).sum(axis=1) + _ALPHA * n + _BETA * n ** 2
  y = (f > _THETA).astype(np.int32)
  return x.astype(np.float32), y
