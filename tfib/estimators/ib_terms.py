"""The two terms of the IB Lagrangian as differentiable bounds, for training a layer with them.

Elad, Haviv, Blau & Michaeli ("Direct validation of the information bottleneck principle
for deep nets", ICCV Workshops 2019) train a layer T = g(T_prev) to maximise

    I(T_σ; Y) − β · I(T_prev; T_σ),        T_σ = g(T_prev) + σ ε,   ε ~ N(0, I),

each term estimated from a batch of B pairs. Both are in nats here.

Relevance (Barber & Agakov 2003). For any classifier q(y | t),

    I(T_σ; Y) = H(Y) − H(Y | T_σ) ≥ H(Y) − E[−log q(Y | T_σ)],

so `relevance_bound` (H(Y) minus the cross-entropy of a softmax head on T_σ) is a lower
bound, tight when q is the true posterior; its head is also the layer's classifier.

Compression, the noisy channel with the layer map inside the critic. The channel
p(t_σ | t_prev) = N(g(t_prev), σ² I) is known, so its log-density is the critic: with
S_ij = −‖t_σ,i − g(t_prev,j)‖² / (2σ²) (the batch's scores of sample i against the means
of all j),

    lower = E[S_ii − log (1/B) Σ_j exp S_ij]           (InfoNCE; van den Oord et al. 2018),
    upper = E[S_ii − log (1/(B−1)) Σ_{j≠i} exp S_ij]   (leave one out; Poole et al. 2019),

both exact in expectation as bounds on I(T_prev; T_σ) (no critic to fit: the critic is the
layer itself, so training the layer trains it). The lower one cannot exceed log B. A layer
is trained on the upper bound: minimising an upper bound on what it keeps is what
compresses, where minimising a lower bound could leave the true value high.
"""
import math

import tensorflow as tf

__all__ = ["channel_bounds", "relevance_bound"]


def relevance_bound(logits: tf.Tensor, labels: tf.Tensor, label_entropy_nats: float
                    ) -> tf.Tensor:
  """H(Y) − mean cross-entropy of softmax(``logits``) on ``labels`` [B] (nats), a lower
  bound on I(T;Y) for the T the logits were computed from (Barber & Agakov)."""
  cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                 logits=logits)
  return label_entropy_nats - tf.reduce_mean(cross_entropy)


def channel_bounds(noisy: tf.Tensor, means: tf.Tensor, noise_std: float):
  """(lower, upper) bounds in nats on I(T_prev; T_σ) of the Gaussian channel
  T_σ = g(T_prev) + σε, from ``noisy`` [B, D] = T_σ and ``means`` [B, D] = g(T_prev)
  of the same B samples (see the module docstring)."""
  batch = tf.shape(noisy)[0]
  squared = (tf.reduce_sum(noisy ** 2, axis=1, keepdims=True)
             - 2.0 * tf.matmul(noisy, means, transpose_b=True)
             + tf.reduce_sum(means ** 2, axis=1)[tf.newaxis, :])
  scores = -tf.maximum(squared, 0.0) / (2.0 * noise_std ** 2)
  own = tf.linalg.diag_part(scores)
  size = tf.cast(batch, scores.dtype)
  lower = tf.reduce_mean(own - tf.reduce_logsumexp(scores, axis=1)) + tf.math.log(size)
  others = scores + tf.linalg.diag(tf.fill([batch], tf.constant(-math.inf, scores.dtype)))
  upper = (tf.reduce_mean(own - tf.reduce_logsumexp(others, axis=1))
           + tf.math.log(size - 1.0))
  return lower, upper
