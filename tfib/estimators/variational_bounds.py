"""Variational lower bounds on I(X;Z) from critic scores, in nats (TensorFlow, XLA-safe).

A critic f scores pairs (x, z). The bounds compare its scores on samples of the joint
p(x, z) with its scores on samples of the product of marginals p(x)p(z), which are made
inside a batch of B joint pairs in one of two ways:

* shuffled pairs (``all_pairs = False``): (x_i, z_σ(i)) for a random derangement σ, one
  marginal pair per joint pair (MINE, MINE-f as in Belghazi et al. 2018);
* all pairs (``all_pairs = True``): the score matrix S[i, j] = f(x_i, z_j); its diagonal
  holds the joint scores, its B(B − 1) off-diagonal entries the marginal ones (InfoNCE,
  NWJ, SMILE as in Poole et al. 2019 and Song & Ermon 2020).

Mathematical details
--------------------
With E_p over joint pairs and E_q over marginal pairs (batch averages):

    DV (Donsker–Varadhan):  I ≥ E_p[f] − log E_q[e^f]
    NWJ (= MINE-f):         I ≥ E_p[f] − E_q[e^(f − 1)]
    InfoNCE:                I ≥ E_p[ f(x_i, z_i) − log (1/B) Σ_j e^f(x_i, z_j) ]  ≤ log B
    SMILE(τ):               E_p[f] − log E_q[e^clip(f, −τ, τ)]

* MINE trains the DV bound with the bias-corrected gradient of Belghazi et al.: the
  gradient of log E_q[e^f] is E_q[e^f ∇f] / E_q[e^f], and a minibatch estimate of the
  denominator is biased, so it is replaced by an exponential moving average
  m ← (1 − α) m + α · mean_batch(e^f) over the training steps (``ema_rate`` α). The
  reported value is the plain DV bound of the batch.
* MINE-f and NWJ are the same f-divergence bound; tfib's "mine_f" uses shuffled pairs,
  "nwj" all off-diagonal pairs. Both have an unbiased minibatch gradient but a variance
  that grows like e^I.
* InfoNCE can never exceed log B (B the batch size), so it is biased low when I > log B,
  with low variance.
* SMILE clips the scores inside the partition term to [−τ, τ], trading the exponential
  variance of DV for a bias; its critic is trained with the Jensen–Shannon (f-GAN) bound
  E_p[−softplus(−f)] − E_q[softplus(f)], whose optimal critic is the same log density
  ratio (Song & Ermon 2020). The value is the clipped DV bound.
"""
import math
from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

__all__ = [
    "BOUNDS",
    "Bound",
    "InfoNCE",
    "MINE",
    "MINEf",
    "NWJ",
    "SMILE",
    "dv_bound",
    "infonce_bound",
    "js_bound",
    "log_mean_exp",
    "make_bound",
    "nwj_bound",
    "row_log_mean_exp",
    "smile_bound",
]


def _masked(values, mask, fill):
  return values if mask is None else tf.where(mask, values, tf.cast(fill, values.dtype))


def _count(values, mask):
  if mask is None:
    return tf.cast(tf.size(values), values.dtype)
  return tf.reduce_sum(tf.cast(mask, values.dtype))


def log_mean_exp(values, mask=None):
  """log of the mean of e^values over all entries (where ``mask`` is True)."""
  return (tf.reduce_logsumexp(_masked(values, mask, -math.inf))
          - tf.math.log(_count(values, mask)))


def row_log_mean_exp(values, mask=None):
  """Per row of a [B, B] matrix (or per entry of [B] values): log mean of e^values where
  ``mask`` is True."""
  if values.shape.rank == 1:
    return values
  return (tf.reduce_logsumexp(_masked(values, mask, -math.inf), axis=1)
          - tf.math.log(tf.reduce_sum(tf.cast(mask, values.dtype), axis=1)
                        if mask is not None else tf.cast(tf.shape(values)[1], values.dtype)))


def _row_mean(values, mask):
  if values.shape.rank == 1:
    return values
  return (tf.reduce_sum(_masked(values, mask, 0.0), axis=1)
          / tf.reduce_sum(tf.cast(mask, values.dtype), axis=1))


def dv_bound(joint, marginal, mask=None):
  """Donsker–Varadhan: mean(joint) − log mean(e^marginal)."""
  return tf.reduce_mean(joint) - log_mean_exp(marginal, mask)


def nwj_bound(joint, marginal, mask=None):
  """Nguyen–Wainwright–Jordan (MINE-f): mean(joint) − mean(e^(marginal − 1))."""
  exp_terms = _masked(tf.exp(marginal - 1.0), mask, 0.0)
  return tf.reduce_mean(joint) - tf.reduce_sum(exp_terms) / _count(marginal, mask)


def infonce_bound(scores):
  """InfoNCE of a [B, B] score matrix with joint pairs on the diagonal; ≤ log B."""
  batch = tf.cast(tf.shape(scores)[0], scores.dtype)
  return (tf.reduce_mean(tf.linalg.diag_part(scores))
          - tf.reduce_mean(tf.reduce_logsumexp(scores, axis=1)) + tf.math.log(batch))


def smile_bound(joint, marginal, clip: float, mask=None):
  """SMILE: DV with the partition scores clipped to [−clip, clip]."""
  return tf.reduce_mean(joint) - log_mean_exp(
      tf.clip_by_value(marginal, -clip, clip), mask)


def js_bound(joint, marginal, mask=None):
  """The f-GAN Jensen–Shannon bound E_p[−softplus(−f)] − E_q[softplus(f)]."""
  marginal_term = _masked(tf.nn.softplus(marginal), mask, 0.0)
  return (tf.reduce_mean(-tf.nn.softplus(-joint))
          - tf.reduce_sum(marginal_term) / _count(marginal, mask))


class Bound:
  """A training objective: the bound's batch value and the loss the critic minimises.

  ``joint`` holds the B joint scores; ``marginal`` the marginal scores, [B] (shuffled
  pairs) or the [B, B] score matrix (all pairs, ``mask`` marking its off-diagonal).
  """

  name: str = ""
  all_pairs: bool = False
  log_partition: bool = False  # combine: log-mean-exp of the partition terms (DV) or mean.

  @property
  def params(self) -> Dict[str, float]:
    return {}

  def value(self, joint, marginal, mask=None):
    """The bound on this batch, in nats."""
    raise NotImplementedError

  def row_terms(self, joint, marginal, mask=None) -> Tuple[tf.Tensor, tf.Tensor]:
    """(a [B], p [B]): the joint score and the partition term of each row (module
    docstring)."""
    raise NotImplementedError

  def combine(self, joint_rows: np.ndarray, partition_rows: np.ndarray,
              axis: int = -1) -> np.ndarray:
    """The bound from rows (numpy, float64), along ``axis``: mean(a) − mean(p), or for DV
    bounds mean(a) − log mean(e^p)."""
    joint_rows = np.asarray(joint_rows, np.float64)
    partition_rows = np.asarray(partition_rows, np.float64)
    if self.log_partition:
      peak = np.max(partition_rows, axis=axis, keepdims=True)
      partition = (np.log(np.mean(np.exp(partition_rows - peak), axis=axis))
                   + np.squeeze(peak, axis=axis))
    else:
      partition = np.mean(partition_rows, axis=axis)
    return np.mean(joint_rows, axis=axis) - partition

  def loss(self, joint, marginal, mask=None):
    """The training loss (may update state such as MINE's moving average)."""
    return -self.value(joint, marginal, mask)

  def ceiling(self, batch_size: int) -> Optional[float]:
    """The largest value the bound can take for this batch size, in nats (or None)."""
    del batch_size
    return None

  def reset(self):
    """Forgets any state carried across training steps."""

  def state(self) -> Dict[str, tf.Variable]:
    """The variables carried across training steps (a resume state holds them)."""
    return {}


class MINE(Bound):
  """Donsker–Varadhan bound trained with the bias-corrected (moving-average) gradient.

  Args:
    ema_rate: α of the moving average m ← (1 − α) m + α · mean(e^f) of the partition
      term. The default 0.01 averages over roughly the last 100 steps; α = 1 gives the
      plain (biased) minibatch DV gradient.
    all_pairs: take the marginal pairs from the whole score matrix (B(B − 1) pairs)
      instead of one shuffle of the batch (B pairs, as Belghazi et al.).
  """

  name = "mine"
  log_partition = True

  def __init__(self, ema_rate: float = 0.01, all_pairs: bool = False):
    if not 0.0 < ema_rate <= 1.0:
      raise ValueError(f"ema_rate must lie in (0, 1], got {ema_rate}.")
    self.ema_rate = float(ema_rate)
    self.all_pairs = bool(all_pairs)
    self._log_ema = tf.Variable(0.0, trainable=False, name="mine_log_partition_ema")
    self._started = tf.Variable(False, trainable=False, name="mine_ema_started")

  @property
  def params(self):
    return {"ema_rate": self.ema_rate, "all_pairs": self.all_pairs}

  def value(self, joint, marginal, mask=None):
    return dv_bound(joint, marginal, mask)

  def row_terms(self, joint, marginal, mask=None):
    return joint, row_log_mean_exp(marginal, mask)

  def loss(self, joint, marginal, mask=None):
    log_partition = log_mean_exp(marginal, mask)
    batch_term = tf.stop_gradient(log_partition)
    averaged = tf.reduce_logsumexp(tf.stack([
        math.log1p(-self.ema_rate) + self._log_ema if self.ema_rate < 1.0 else -math.inf,
        math.log(self.ema_rate) + batch_term]))
    log_ema = tf.where(self._started, averaged, batch_term)
    self._log_ema.assign(log_ema)
    self._started.assign(True)
    # d/dθ of e^(log_partition − c) is E_q[e^f ∇f] / e^c: the partition gradient with the
    # moving average m = e^c in the denominator. Since m includes this batch,
    # e^(log_partition − c) ≤ 1/α, so the surrogate cannot overflow.
    return -(tf.reduce_mean(joint) - tf.exp(log_partition - tf.stop_gradient(log_ema)))

  def reset(self):
    self._log_ema.assign(0.0)
    self._started.assign(False)

  def state(self):
    return {"log_partition_ema": self._log_ema, "ema_started": self._started}


class MINEf(Bound):
  """MINE-f: the f-divergence (NWJ) bound on shuffled pairs (``all_pairs``: as "nwj")."""

  name = "mine_f"

  def __init__(self, all_pairs: bool = False):
    self.all_pairs = bool(all_pairs)

  @property
  def params(self):
    return {"all_pairs": self.all_pairs}

  def value(self, joint, marginal, mask=None):
    return nwj_bound(joint, marginal, mask)

  def row_terms(self, joint, marginal, mask=None):
    return joint, _row_mean(tf.exp(marginal - 1.0), mask)


class NWJ(Bound):
  """NWJ on all off-diagonal pairs of the score matrix."""

  name = "nwj"
  all_pairs = True

  def value(self, joint, marginal, mask=None):
    return nwj_bound(joint, marginal, mask)

  def row_terms(self, joint, marginal, mask=None):
    return joint, _row_mean(tf.exp(marginal - 1.0), mask)


class InfoNCE(Bound):
  """InfoNCE (contrastive predictive coding) on the score matrix; ceiling log B."""

  name = "infonce"
  all_pairs = True

  def value(self, joint, marginal, mask=None):
    del joint, mask  # The diagonal of the score matrix holds the joint scores.
    return infonce_bound(marginal)

  def row_terms(self, joint, marginal, mask=None):
    del mask  # Every pair of the row, its own included, is in the partition.
    batch = tf.cast(tf.shape(marginal)[0], marginal.dtype)
    return joint, tf.reduce_logsumexp(marginal, axis=1) - tf.math.log(batch)

  def ceiling(self, batch_size):
    return math.log(batch_size)


class SMILE(Bound):
  """SMILE(τ): clipped-partition DV value, critic trained with the JS bound.

  Args:
    clip: τ, the clipping threshold of the partition scores (Song & Ermon use 1 and 5;
      τ → ∞ recovers DV).
  """

  name = "smile"
  log_partition = True

  def __init__(self, clip: float = 5.0, all_pairs: bool = True):
    if not clip > 0:
      raise ValueError(f"clip must be > 0, got {clip}.")
    self.clip = float(clip)
    self.all_pairs = bool(all_pairs)

  @property
  def params(self):
    return {"clip": self.clip, "all_pairs": self.all_pairs}

  def value(self, joint, marginal, mask=None):
    return smile_bound(joint, marginal, self.clip, mask)

  def row_terms(self, joint, marginal, mask=None):
    return joint, row_log_mean_exp(tf.clip_by_value(marginal, -self.clip, self.clip), mask)

  def loss(self, joint, marginal, mask=None):
    js = js_bound(joint, marginal, mask)
    # The loss reads as −SMILE while its gradient is that of the JS bound.
    return -(js + tf.stop_gradient(self.value(joint, marginal, mask) - js))


BOUNDS = {cls.name: cls for cls in (MINE, MINEf, NWJ, InfoNCE, SMILE)}


def make_bound(name: str, **params) -> Bound:
  """A new bound by name: mine, mine_f, nwj, infonce, smile."""
  try:
    cls = BOUNDS[name]
  except KeyError:
    raise ValueError(f"Unknown bound {name!r}; known: {', '.join(sorted(BOUNDS))}.") from None
  return cls(**params)
