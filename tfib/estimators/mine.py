"""The MINE family as registered estimators: mine, mine_f, infonce, nwj, smile.

    estimator = tfib.estimators.get("mine", hidden_units=(128, 128), noise_std=0.1)
    layer = estimator.estimate(activations, labels)      # I(X;T_σ), I(T_σ;Y) in bits
    pair = estimator.estimate_pair(x, z)                  # I(X;Z) in bits, as i_xt

Each estimator trains a critic on one variational bound (`variational_bounds`) with
`critic_training.CriticTrainer` — one XLA-compiled step, a held-out split, early stopping —
and reports the mean of the last ``num_last`` held-out evaluations before held-out
performance stopped improving, with their spread (standard deviation) in ``extras``.
Training works in nats; the `MIEstimate` is in bits (1 bit = ln 2 nats).

What is estimated for a layer (Elad, Haviv, Blau & Michaeli 2019)
-----------------------------------------------------------------
For a deterministic layer T = h(X) of a network and continuous X, I(X;T) is infinite (or,
over N distinct inputs, log N whatever the network does), so it says nothing. As Elad et
al. do, tfib reads the layer through an additive Gaussian channel,

    T_σ = h(X) + σ ε,    ε ~ N(0, I),    σ = ``noise_std`` (in the units of the activations),

with X uniform over the N given inputs, and estimates

    i_xt = I(X; T_σ)   and   i_ty = I(T_σ; Y)        (bits).

Because T_σ depends on X only through h(X), I(X; T_σ) = I(h(X); T_σ): the critic for the
first quantity is evaluated on (h(x), h(x) + σ ε) — the layer map sits inside the critic,
whose x-branch sees the layer's own output — so the estimator needs only the activations,
not the inputs. ``channel_prior=True`` further adds the known channel log-density
−‖t' − h(x)‖² / (2σ²) to the critic (`critics.GaussianChannelCritic`), so the network only
learns the rest (−log p(t') up to a constant). That helps when σ is small next to the
spread of continuous activations (SMILE recovered 5.8 of 5.9 bits with it, 4.8 without, on
a 3-unit tanh layer at σ = 0.1) and hurts within a short budget when the activations sit in
a few tight clusters (the network must then cancel ‖ε‖²/(2σ²) exactly); it is off by
default. The second quantity uses labels Y ([N] class indices), one-hot encoded, and a
critic on (h(x) + σ ε, y). Fresh noise is drawn at every step. Caveats: both numbers depend on σ (compare layers and epochs at one
σ only); I(X; T_σ) ≤ log N (the ceiling ``log2_n`` of the result) and I(T_σ; Y) ≤ H(Y);
all these bounds are lower bounds in expectation, and InfoNCE cannot exceed log B.

For a pair of variables, ``estimate_pair(x, z)`` estimates I(X;Z) with no added noise and
puts it in ``i_xt`` (``i_ty`` and ``h_y`` are None).
"""
import math
from typing import Any, Callable, Dict, Optional, Sequence, Union

import keras
import numpy as np

from tfib.estimators import base
from tfib.estimators.critic_training import CriticFit, CriticTrainer, TrainingDiverged
from tfib.estimators import critics
from tfib.estimators.critics import GaussianChannelCritic, make_critic
from tfib.estimators.registry import register
from tfib.estimators.result import MIEstimate
from tfib.estimators.variational_bounds import make_bound

__all__ = [
    "InfoNCEEstimator",
    "MINEEstimator",
    "MINEfEstimator",
    "NWJEstimator",
    "SMILEEstimator",
    "TrainingDiverged",
    "VariationalEstimator",
]

_LN2 = math.log(2.0)
CriticSpec = Union[str, keras.Model, Callable[[], keras.Model]]


def _bits(nats):
  return None if nats is None else nats / _LN2


class VariationalEstimator(base.Estimator):
  """A critic trained on one variational bound; see the module docstring.

  Args:
    critic: "concat", "separable", a Keras model scoring ``(x, z)`` → [B] (used by
      `estimate_pair` only, trained in place), or a callable returning a new such model
      (called once per quantity estimated). None picks the bound's default.
    hidden_units, embedding_dim, activation: the built-in critics' architecture.
    batch_size: B; marginal pairs come from within a batch.
    learning_rate: Adam's learning rate.
    max_steps, eval_every, patience, held_out_fraction, num_last: training length, the
      held-out evaluation schedule, early stopping, and how many final evaluations the
      estimate averages (`critic_training.CriticTrainer.fit`).
    noise_std: σ of the Gaussian channel a layer is read through (`estimate` only).
    channel_prior: add the channel's known log-density to the I(X;T) critic (see above).
    seed: seeds the split, batches, shuffles, noise and (via Keras) the critic's weights.
    jit_compile: compile the training step with XLA.
    steps_per_call: training steps run in one compiled call (see `CriticTrainer`).
  """

  bound_name = ""
  default_critic = "concat"

  def __init__(self, critic: Optional[CriticSpec] = None,
               hidden_units: Sequence[int] = (256, 256), embedding_dim: int = 32,
               activation: str = "relu", batch_size: int = 256, learning_rate: float = 1e-3,
               max_steps: int = 2000, eval_every: int = 50, patience: int = 10,
               held_out_fraction: float = 0.2, num_last: int = 5, noise_std: float = 0.1,
               channel_prior: bool = False, seed: int = 0, jit_compile: bool = True,
               steps_per_call: int = 50, **bound_params):
    self.critic = self.default_critic if critic is None else critic
    if isinstance(self.critic, str):
      make_critic(self.critic, (1,))  # Refuses an unknown name now, not after training.
    self.hidden_units = critics.units(hidden_units)
    self.embedding_dim = int(embedding_dim)
    self.activation = activation
    self.batch_size = int(batch_size)
    self.learning_rate = float(learning_rate)
    self.max_steps = int(max_steps)
    self.eval_every = int(eval_every)
    self.patience = int(patience)
    self.held_out_fraction = float(held_out_fraction)
    self.num_last = int(num_last)
    if not noise_std > 0:
      raise ValueError(f"noise_std must be > 0 (I(X;T) of a noiseless layer is infinite), "
                       f"got {noise_std}.")
    self.noise_std = float(noise_std)
    self.channel_prior = bool(channel_prior)
    self.seed = int(seed)
    self.jit_compile = bool(jit_compile)
    if steps_per_call < 1:
      raise ValueError(f"steps_per_call must be >= 1, got {steps_per_call}.")
    self.steps_per_call = int(steps_per_call)
    self.bound_params = dict(bound_params)
    make_bound(self.bound_name, **self.bound_params)  # Validates the bound's parameters.

  @property
  def params(self) -> Dict[str, Any]:
    return dict(
        critic=self.critic, hidden_units=self.hidden_units, embedding_dim=self.embedding_dim,
        activation=self.activation, batch_size=self.batch_size,
        learning_rate=self.learning_rate, max_steps=self.max_steps,
        eval_every=self.eval_every, patience=self.patience,
        held_out_fraction=self.held_out_fraction, num_last=self.num_last,
        noise_std=self.noise_std, channel_prior=self.channel_prior, seed=self.seed,
        jit_compile=self.jit_compile, steps_per_call=self.steps_per_call,
        **self.bound_params)

  def _record_params(self):
    """`params` with a user critic named rather than embedded (results are JSON)."""
    params = self.params
    if not isinstance(self.critic, str):
      params["critic"] = getattr(self.critic, "name", None) or repr(self.critic)
    params["hidden_units"] = list(self.hidden_units)
    return params

  def _new_critic(self, allow_instance: bool):
    if isinstance(self.critic, str):
      return make_critic(self.critic, self.hidden_units, self.embedding_dim, self.activation,
                         seed=self.seed)
    if isinstance(self.critic, keras.Model):
      if not allow_instance:
        raise ValueError(
            "A layer estimate trains two critics (for I(X;T) and I(T;Y)); pass a callable "
            "that returns a new Keras model instead of one model instance.")
      return self.critic
    if callable(self.critic):
      return self.critic()
    raise TypeError(f"critic must be a name, a Keras model or a callable returning one; "
                    f"got {type(self.critic).__name__}.")

  def _fit(self, x, z, critic, x_noise_std=0.0, z_noise_std=0.0, callback=None,
           checkpoint=None) -> CriticFit:
    trainer = CriticTrainer(
        make_bound(self.bound_name, **self.bound_params), critic, self.batch_size,
        self.learning_rate, x_noise_std=x_noise_std, z_noise_std=z_noise_std,
        jit_compile=self.jit_compile, seed=self.seed, steps_per_call=self.steps_per_call)
    return trainer.fit(x, z, max_steps=self.max_steps, eval_every=self.eval_every,
                       patience=self.patience, held_out_fraction=self.held_out_fraction,
                       num_last=self.num_last, callback=callback, checkpoint=checkpoint)

  @staticmethod
  def _fit_extras(fit: CriticFit, prefix: str) -> Dict[str, Any]:
    return {
        f"{prefix}spread_bits": _bits(fit.spread),
        f"{prefix}last_bits": [_bits(v) for v in fit.last_values],
        f"{prefix}history_bits": [[step, _bits(v)] for step, v in fit.history],
        f"{prefix}steps": fit.steps,
        f"{prefix}stop_reason": fit.stop_reason,
        f"{prefix}ceiling_bits": _bits(fit.ceiling),
        f"{prefix}held_out_samples": fit.num_held_out,
    }

  def fit_pair(self, x, z, callback=None, checkpoint=None) -> CriticFit:
    """Trains a critic on paired samples and returns the fit (nats, with its history).

    ``checkpoint``: a `critic_training.FitCheckpoint` to resume from and save to.
    """
    x = base.as_finite_activations(x, "x samples")
    z = base.as_finite_activations(z, "z samples")
    return self._fit(x, z, self._new_critic(allow_instance=True), callback=callback,
                     checkpoint=checkpoint)

  def estimate_pair(self, x, z, callback=None, checkpoint=None) -> MIEstimate:
    """I(X;Z) in bits from paired samples x [N, ...], z [N, ...], reported as ``i_xt``."""
    fit = self.fit_pair(x, z, callback=callback, checkpoint=checkpoint)
    extras = {"quantity": "I(X;Z)", "estimate_nats": fit.estimate,
              "spread_nats": fit.spread}
    extras.update(self._fit_extras(fit, ""))
    return MIEstimate(estimator=self.name, params=self._record_params(),
                      i_xt=_bits(fit.estimate), i_ty=None, num_samples=int(np.shape(x)[0]),
                      h_y=None, extras=extras)

  def estimate(self, activations, labels=None, inputs=None) -> MIEstimate:
    """I(X; T_σ) and I(T_σ; Y) in bits of one layer's activations [N, ...]."""
    t = base.as_finite_activations(activations).astype(np.float32)
    num = t.shape[0]
    if inputs is not None and np.shape(inputs)[0] != num:
      raise ValueError(f"input count mismatch: {np.shape(inputs)[0]} inputs for {num} "
                       "samples of activations.")
    y = base.as_labels(labels, num)
    critic = self._new_critic(allow_instance=False)
    if self.channel_prior:
      critic = GaussianChannelCritic(critic, self.noise_std)
    fit_xt = self._fit(t, t, critic, z_noise_std=self.noise_std)
    extras = {"quantity": f"I(X; T + N(0, {self.noise_std}^2 I)), I(T + noise; Y)",
              "noise_std": self.noise_std}
    extras.update(self._fit_extras(fit_xt, "i_xt_"))
    i_ty = h_y = None
    if y is not None:
      h_y = base.label_entropy(y)
      num_classes = int(y.max()) + 1
      if np.unique(y).size == 1:
        i_ty = 0.0  # A constant label carries no information.
        extras["i_ty_stop_reason"] = "one class: I(T;Y) = 0 exactly"
      else:
        one_hot = np.eye(num_classes, dtype=np.float32)[y]
        fit_ty = self._fit(t, one_hot, self._new_critic(allow_instance=False),
                           x_noise_std=self.noise_std)
        i_ty = _bits(fit_ty.estimate)
        extras.update(self._fit_extras(fit_ty, "i_ty_"))
    return MIEstimate(estimator=self.name, params=self._record_params(),
                      i_xt=_bits(fit_xt.estimate), i_ty=i_ty, num_samples=num, h_y=h_y,
                      extras=extras)


@register("mine")
class MINEEstimator(VariationalEstimator):
  """MINE: Donsker–Varadhan bound, bias-corrected gradient (Belghazi et al. 2018).

  ``ema_rate`` (default 0.01) is the rate α of the moving average of the partition term
  used in the gradient; ``all_pairs`` takes the marginal pairs from the whole score matrix
  instead of one shuffle of the batch; see `variational_bounds.MINE`.
  """

  bound_name = "mine"

  def __init__(self, *args, ema_rate: float = 0.01, all_pairs: bool = False, **kwargs):
    super().__init__(*args, ema_rate=ema_rate, all_pairs=all_pairs, **kwargs)


@register("mine_f")
class MINEfEstimator(VariationalEstimator):
  """MINE-f: the f-divergence (NWJ) bound on shuffled pairs (Belghazi et al. 2018).

  ``all_pairs=True`` uses the whole score matrix, which makes it the "nwj" estimator.
  """

  bound_name = "mine_f"

  def __init__(self, *args, all_pairs: bool = False, **kwargs):
    super().__init__(*args, all_pairs=all_pairs, **kwargs)


@register("nwj")
class NWJEstimator(VariationalEstimator):
  """NWJ on all pairs of the batch (Nguyen, Wainwright & Jordan 2010; Poole et al.)."""

  bound_name = "nwj"
  default_critic = "separable"


@register("infonce")
class InfoNCEEstimator(VariationalEstimator):
  """InfoNCE on all pairs of the batch (Oord et al. 2018); never above log(batch_size)."""

  bound_name = "infonce"
  default_critic = "separable"


@register("smile")
class SMILEEstimator(VariationalEstimator):
  """SMILE: DV with the partition clipped to [−clip, clip] (Song & Ermon 2020).

  ``clip`` defaults to 5.0; see `variational_bounds.SMILE`.
  """

  bound_name = "smile"
  default_critic = "separable"

  def __init__(self, *args, clip: float = 5.0, **kwargs):
    super().__init__(*args, clip=clip, **kwargs)
