"""Critics f(x, z) for the variational MI bounds (MINE family), as Keras 3 models.

A critic scores pairs: called on ``(x, z)`` with x [B, Dx] and z [B, Dz] it returns one
real score per row pair, shape [B] (or [B, 1]). Bounds that contrast every x with every z
of a batch (InfoNCE, NWJ, SMILE) need the score matrix S[i, j] = f(x_i, z_j) [B, B];
`score_matrix` builds it from any critic (by evaluating all B² pairs), and critics that
can do better define a ``score_matrix(x, z)`` method themselves (`SeparableCritic`).

Any Keras model (or callable) with that calling convention can be used in place of the
critics here.

* `ConcatCritic`: f(x, z) = MLP([x; z]) (Belghazi et al. 2018). All B² pairs cost B²
  network evaluations.
* `SeparableCritic`: f(x, z) = g(x)ᵀ h(z) (Oord et al. 2018; Poole et al. 2019). The score
  matrix is one matrix product of the two embeddings.
* `GaussianChannelCritic`: for Z = X + σ E with E ~ N(0, I) (a layer read with additive
  noise), f(x, z) = f_θ(x, z) − ‖z − x‖² / (2σ²): the known log-density of the noise
  channel, log p(z | x) up to a constant, plus a learned correction.
"""
import re
from typing import Optional, Sequence

import keras
import tensorflow as tf

__all__ = [
    "ConcatCritic",
    "GaussianChannelCritic",
    "SeparableCritic",
    "make_critic",
    "pair_scores",
    "score_matrix",
    "units",
]


def _mlp(hidden_units, output_units, activation, name, seed):
  widths = list(hidden_units) + [output_units]
  layers = []
  for i, units in enumerate(widths):
    initializer = keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)
    layers.append(keras.layers.Dense(
        units, activation=activation if i < len(hidden_units) else None,
        kernel_initializer=initializer))
  return keras.Sequential(layers, name=name)


def units(hidden_units):
  """Hidden widths from a sequence, one int, or a string such as "256x256"."""
  if isinstance(hidden_units, str):
    hidden_units = [part for part in re.split(r"[x,\s]+", hidden_units.strip()) if part]
  elif isinstance(hidden_units, int):
    hidden_units = [hidden_units]
  units = tuple(int(u) for u in hidden_units)
  if any(u < 1 for u in units):
    raise ValueError(f"hidden_units must be positive widths, got {units}.")
  return units


@keras.saving.register_keras_serializable(package="tfib")
class ConcatCritic(keras.Model):
  """f(x, z) = MLP([x; z]), a scalar per pair.

  Args:
    hidden_units: widths of the hidden layers (a sequence, or a string like "256x256").
    activation: activation of the hidden layers.
    seed: seeds the initial weights (None: Keras' global seed).
  """

  def __init__(self, hidden_units: Sequence[int] = (256, 256), activation: str = "relu",
               seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = units(hidden_units)
    self.activation = activation
    self.seed = seed
    self.network = _mlp(self.hidden_units, 1, activation, "joint", seed)

  def call(self, inputs):
    x, z = inputs
    return tf.squeeze(self.network(tf.concat([x, z], axis=-1)), axis=-1)

  def score_matrix(self, x, z):
    """S[i, j] = MLP([x_i; z_j]), [B, B]. The first layer is split, W [x; z] = W_x x +
    W_z z, so it costs 2B rows instead of B²; the later layers see all B² pairs."""
    if not self.network.built:
      self.network.build((None, x.shape[-1] + z.shape[-1]))
    first, rest = self.network.layers[0], self.network.layers[1:]
    kernel = first.kernel
    rows = tf.matmul(x, kernel[:x.shape[-1]])
    columns = tf.matmul(z, kernel[x.shape[-1]:])
    hidden = rows[:, None, :] + columns[None, :, :] + first.bias
    if first.activation is not None:
      hidden = first.activation(hidden)
    for layer in rest:
      hidden = layer(hidden)
    return tf.squeeze(hidden, axis=-1)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_units=list(self.hidden_units), activation=self.activation,
                  seed=self.seed)
    return config


@keras.saving.register_keras_serializable(package="tfib")
class SeparableCritic(keras.Model):
  """f(x, z) = g(x)ᵀ h(z) with two MLP embeddings of size ``embedding_dim``.

  Args:
    hidden_units: widths of the hidden layers of g and of h.
    embedding_dim: the size of the two embeddings.
    activation: activation of the hidden layers.
    seed: seeds the initial weights (None: Keras' global seed).
  """

  def __init__(self, hidden_units: Sequence[int] = (256, 256), embedding_dim: int = 32,
               activation: str = "relu", seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = units(hidden_units)
    self.embedding_dim = int(embedding_dim)
    self.activation = activation
    self.seed = seed
    self.x_network = _mlp(self.hidden_units, self.embedding_dim, activation, "g", seed)
    self.z_network = _mlp(self.hidden_units, self.embedding_dim, activation, "h",
                          None if seed is None else seed + 1000)

  def call(self, inputs):
    x, z = inputs
    return tf.reduce_sum(self.x_network(x) * self.z_network(z), axis=-1)

  def score_matrix(self, x, z):
    """S[i, j] = g(x_i)ᵀ h(z_j), [B, B], with one matrix product."""
    return tf.matmul(self.x_network(x), self.z_network(z), transpose_b=True)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_units=list(self.hidden_units), embedding_dim=self.embedding_dim,
                  activation=self.activation, seed=self.seed)
    return config


@keras.saving.register_keras_serializable(package="tfib")
class GaussianChannelCritic(keras.Model):
  """f(t, t') = f_θ(t, t') − ‖t' − t‖² / (2σ²) for t' = t + σ ε, ε ~ N(0, I).

  When Z is X read through an additive Gaussian channel of known σ, the log-density ratio
  the bounds are after is log p(z | x) − log p(z) = −‖z − x‖²/(2σ²) − log p(z) + const:
  its x-dependence is known exactly. This critic adds that term to a learned critic
  ``base``, which is left with the part that depends on z alone (the marginal density),
  so the bounds are tight from the first step (the prior knowledge used by Elad et al.
  2019).

  Args:
    base: the learned critic f_θ (any critic of this module, or a Keras model taking
      ``(x, z)``).
    noise_std: σ, the standard deviation of the channel noise.
  """

  def __init__(self, base, noise_std: float, **kwargs):
    super().__init__(**kwargs)
    if isinstance(base, dict):
      base = keras.saving.deserialize_keras_object(base)
    if not noise_std > 0:
      raise ValueError(f"noise_std must be > 0, got {noise_std}.")
    self.base = base
    self.noise_std = float(noise_std)

  def call(self, inputs):
    x, z = inputs
    channel = -tf.reduce_sum(tf.square(z - x), axis=-1) / (2.0 * self.noise_std ** 2)
    return pair_scores(self.base, x, z) + channel

  def score_matrix(self, x, z):
    """S[i, j] = f_θ(x_i, z_j) − ‖z_j − x_i‖² / (2σ²), [B, B]."""
    squared = (tf.reduce_sum(tf.square(x), axis=-1)[:, None]
               + tf.reduce_sum(tf.square(z), axis=-1)[None, :]
               - 2.0 * tf.matmul(x, z, transpose_b=True))
    return score_matrix(self.base, x, z) - squared / (2.0 * self.noise_std ** 2)

  def get_config(self):
    config = super().get_config()
    config.update(base=keras.saving.serialize_keras_object(self.base),
                  noise_std=self.noise_std)
    return config


def make_critic(kind: str = "concat", hidden_units: Sequence[int] = (256, 256),
                embedding_dim: int = 32, activation: str = "relu",
                seed: Optional[int] = None) -> keras.Model:
  """A new critic by name: ``"concat"`` or ``"separable"``."""
  if kind == "concat":
    return ConcatCritic(hidden_units, activation=activation, seed=seed)
  if kind == "separable":
    return SeparableCritic(hidden_units, embedding_dim=embedding_dim, activation=activation,
                           seed=seed)
  raise ValueError(f"Unknown critic {kind!r}; use 'concat' or 'separable' or pass a "
                   "Keras model.")


def pair_scores(critic, x, z):
  """f(x_i, z_i) for each row pair, [B]; refuses a critic of any other output shape."""
  scores = critic((x, z))
  batch = x.shape[0]
  shape = tuple(scores.shape)
  if len(shape) == 2 and shape[1] == 1:
    scores = tf.squeeze(scores, axis=1)
  elif len(shape) != 1 or (batch is not None and shape[0] is not None and shape[0] != batch):
    raise ValueError(
        f"The critic returned scores of shape {shape} for a batch of {batch} (x, z) pairs; "
        f"a critic must return one score per pair, shape [{batch}] or [{batch}, 1].")
  return scores


def score_matrix(critic, x, z):
  """S[i, j] = f(x_i, z_j), [B, B]: the critic's own ``score_matrix`` or all B² pairs."""
  batch = x.shape[0]
  if hasattr(critic, "score_matrix"):
    scores = critic.score_matrix(x, z)
    if tuple(scores.shape) != (batch, batch):
      raise ValueError(
          f"The critic's score_matrix returned shape {tuple(scores.shape)} for a batch of "
          f"{batch}; it must return [{batch}, {batch}] with S[i, j] = f(x_i, z_j).")
    return scores
  n = tf.shape(x)[0]
  x_rows = tf.repeat(x, n, axis=0)  # x_0 ... x_0, x_1 ... x_1, ...
  z_rows = tf.tile(z, [n, 1])  # z_0, z_1, ... z_{B-1}, z_0, ...
  scores = pair_scores(critic, x_rows, z_rows)
  return tf.reshape(scores, [n, n])
