"""The MINE family as registered estimators: mine, mine_f, infonce, nwj, smile.

    estimator = tfib.estimators.get("infonce")           # the default: DEFAULT_ESTIMATOR
    layer = estimator.estimate(activations, labels)      # I(X;T_σ), I(T_σ;Y) in bits
    pair = estimator.estimate_pair(x, z)                  # I(X;Z) in bits, as i_xt
    pair.extras["i_xt_ci"], pair.flags, pair.failed       # its 90% interval; what is wrong

Each estimator trains a critic on one variational bound (`variational_bounds`) with
`critic_training.CriticTrainer` — a held-out split, early stopping on the held-out bound —
and reports the held-out bound of the best window of ``num_last`` evaluations (its rows
pooled, `critic_training`), with a confidence interval and flags. Training works in nats;
the `MIEstimate` is in bits (1 bit = ln 2 nats).

* Inputs are standardised by default (``standardize``): each coordinate of each side is
  read as c·asinh(((v − median) / (IQR/1.349)) / c), the statistics fitted on the training
  split, inside the critic (`standardization.StandardizedCritic`). The map is invertible,
  so the information is unchanged, and heavy tails (Student-t with 1 degree of freedom)
  no longer blow the critic's scores up. ``extras["standardization"]`` says so.
* The interval (``extras["i_xt_ci"]``, ``"i_ty_ci"``, bits) is the bootstrap of the
  held-out rows with its upper end widened for the bias of a lower bound
  (`confidence.interval`).
* Flags (`fit_checks`): ``diverged`` (no number: ``i_xt`` is None), ``not_converged``,
  ``not_above_noise``, ``above_ceiling`` fail the estimate (``failed``: do not use the
  number); ``near_bound_ceiling`` is a caveat. A failed estimate is logged as a warning.

Defaults (``DEFAULT_ESTIMATOR`` = "infonce", a separable critic g(x)ᵀh(z) with three
128-unit SiLU layers and 32-dimensional embeddings, batch 256, AdamW at 1e-3, at most
2,000 steps, held-out evaluation every 50 steps on 20% of the samples, all held-out rows
(at most 4,096) in one score matrix, patience 10 and one drop of the learning rate by 0.3
before stopping, a window of 5) were chosen on the ground-truth suite
(`tfib.data.ground_truth`, N = 5,000 per task; bench/bench_mi_suite.py prints the table):
mean absolute error 0.075 nats over its 39 tasks of at most 2 nats and none worse than
0.28, against 0.13 (worst 0.81) for MINE with a concatenation critic, and 0.12 (worst
0.53) with the former two layers, a fixed weight decay of 1.0, held-out batches of 256
and no drop. The weight decay keeps the critic from overfitting its training samples, a
risk that grows with the input coordinates per sample, so it is set in proportion to
them: 240 (Dx + Dz) / N_train, at most 6 (0.06 per coordinate at 4,000 training
samples). A fixed decay cannot serve both ends of the suite: 3.0 brought the 25 × 25
spiral and half-cube within 0.31 nats but left the 5 × 5 spiral 0.74 low, 0.1 did the
reverse. The third layer is what the curved low-dimensional maps need (spirals 3 × 3 and
5 × 5: 0.64 and 1.55 of 1 and 2 nats with two layers, 0.80 and 1.72 with three). The
1/N_train keeps large samples from being over-regularised: for tfib-mine's d = 20, 2-nat
Gaussian (N = 20,000) a decay of 2.4 capped the three-layer critic at 1.44 nats where the
scaled 0.6 gave 1.76 (seed 0, held-out batches of 256); at N = 2,000 the scaled decay did
as well or better than the unscaled on four tasks (spiral 5 × 5 1.70 against 1.67 nats,
sparse 25 × 25 1.94 against 1.89). Two more choices took that Gaussian from 1.76 to 1.84
nats: the evaluation on all held-out rows at once (InfoNCE's bias, about
var(p(z|x)/p(z)) / (2B) = (e^(2I) − 1) / (2B) for Gaussians, is 0.1 nats at B = 256 for
I = 2 nats; with 4,000 rows it is gone and the ceiling is log 4,000 instead of log 256:
1.80 nats) and the learning-rate drop on a plateau (1.84). NWJ and SMILE share these
defaults, except NWJ's learning rate of 3e-4: its e^(f−1) term makes
larger steps unstable (at 1e-3 it gave 0.39 of 1 nat on a 1-d Gaussian, at 3e-4 0.99);
MINE and MINE-f keep a concatenation critic MLP([x; z]) with two 128-unit ReLU layers
and no weight decay, which measured best for them (SiLU or weight decay cost them
0.2–0.3 nats on the Student-t tasks). The decay a fit used is in its extras
(``i_xt_weight_decay``). Training runs as a graph (``jit_compile=False``):
XLA's compilation of a new critic costs about 2.5 s on 2 CPU cores, more than it saves
over the 1,000–2,000 steps of a fit (measured: 2.3 ms per step as a graph, 1.6 with XLA).

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
not the inputs. The noise is added in the units of the activations, before the
standardisation, whose scale for the noisy side is sqrt(s² + σ²). ``channel_prior=True``
further adds the known channel log-density −‖t' − h(x)‖² / (2σ²) to the critic
(`critics.GaussianChannelCritic`, outside the standardisation), so the network only learns
the rest (−log p(t') up to a constant). That helps when σ is small next to the spread of
continuous activations and hurts within a short budget when the activations sit in a few
tight clusters (the network must then cancel ‖ε‖²/(2σ²) exactly); it is off by default.
The second quantity uses labels Y ([N] class indices), one-hot encoded, and a critic on
(h(x) + σ ε, y). Fresh noise is drawn at every step. Caveats: both numbers depend on σ
(compare layers and epochs at one σ only); I(X; T_σ) ≤ log N (the ceiling ``log2_n`` of
the result) and I(T_σ; Y) ≤ H(Y); all these bounds are lower bounds in expectation, and
InfoNCE cannot exceed log B.

For a pair of variables, ``estimate_pair(x, z)`` estimates I(X;Z) with no added noise and
puts it in ``i_xt`` (``i_ty`` and ``h_y`` are None).
"""
import math
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from absl import logging
import keras
import numpy as np

from tfib.estimators import base
from tfib.estimators import confidence
from tfib.estimators import critics
from tfib.estimators import fit_checks
from tfib.estimators.critic_training import (CriticFit, CriticTrainer, TrainingDiverged,
                                             check_pairs, split)
from tfib.estimators.critics import GaussianChannelCritic, make_critic
from tfib.estimators.registry import register
from tfib.estimators.result import MIEstimate
from tfib.estimators.standardization import DEFAULT_TAIL, StandardizedCritic, robust_scale
from tfib.estimators.variational_bounds import make_bound

__all__ = [
    "DEFAULT_ESTIMATOR",
    "InfoNCEEstimator",
    "MINEEstimator",
    "MINEfEstimator",
    "NWJEstimator",
    "SMILEEstimator",
    "TrainingDiverged",
    "VariationalEstimator",
]

DEFAULT_ESTIMATOR = "infonce"
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
    hidden_units, embedding_dim, activation: the built-in critics' architecture (None:
      the bound's default; mine and mine_f: two 128-unit ReLU layers, the others: three
      128-unit SiLU layers).
    batch_size: B; marginal pairs come from within a batch.
    eval_batch_size: the rows of one held-out batch; None: all held-out rows, at most
      `max_eval_batch_size`, when the bound scores all pairs and the critic is the
      separable one (its score matrix is one matrix product), else ``batch_size``.
    learning_rate: Adam's learning rate; None: the bound's default (3e-4 for nwj, whose
      exponential term makes larger steps unstable; 1e-3 for the others).
    weight_decay: decoupled weight decay (AdamW); 0 for plain Adam; None: the bound's
      default, `fit_weight_decay` (0 for mine and mine_f; for the others 240 (Dx + Dz) /
      N_train, at most 6: 0.06 per input coordinate at 4,000 training samples).
    max_steps, eval_every, patience, lr_drops, held_out_fraction, num_last: training
      length, the held-out evaluation schedule, early stopping (after ``lr_drops`` drops
      of the learning rate by 0.3 on a plateau), and how many evaluations the estimate
      pools (`critic_training.CriticTrainer.fit`).
    noise_std: σ of the Gaussian channel a layer is read through (`estimate` only).
    channel_prior: add the channel's known log-density to the I(X;T) critic (see above).
    standardize: read the inputs through `standardization.StandardizedCritic`.
    tail: where the standardisation compresses the tails (None: affine only).
    ci_level: the coverage the confidence interval is built for.
    seed: seeds the split, batches, shuffles, noise, bootstrap and the critic's weights.
    jit_compile: compile the training step with XLA.
    steps_per_call: training steps run in one compiled call (see `CriticTrainer`).
  """

  bound_name = ""
  # Each bound's own critic defaults (chosen on the suite; see the module docstring).
  default_critic = "separable"
  default_hidden_units = (128, 128, 128)
  default_activation = "silu"
  # The default weight decay, 240 (Dx + Dz) / N_train, at most 6: 0.06 per input
  # coordinate at the suite's 4,000 training samples (see the module docstring).
  weight_decay_per_input_and_sample = 240.0
  max_default_weight_decay = 6.0
  default_learning_rate = 1e-3
  # The held-out score matrix of a separable critic: 4,096² entries, 64 MiB in float32.
  max_eval_batch_size = 4096

  def __init__(self, critic: Optional[CriticSpec] = None,
               hidden_units: Optional[Sequence[int]] = None, embedding_dim: int = 32,
               activation: Optional[str] = None, batch_size: int = 256,
               eval_batch_size: Optional[int] = None,
               learning_rate: Optional[float] = None, weight_decay: Optional[float] = None,
               max_steps: int = 2000, eval_every: int = 50,
               patience: int = 10, lr_drops: int = 1, held_out_fraction: float = 0.2,
               num_last: int = 5,
               noise_std: float = 0.1, channel_prior: bool = False, standardize: bool = True,
               tail: Optional[float] = DEFAULT_TAIL, ci_level: float = 0.9, seed: int = 0,
               jit_compile: bool = False, steps_per_call: int = 50, **bound_params):
    self.critic = self.default_critic if critic is None else critic
    if isinstance(self.critic, str):
      make_critic(self.critic, (1,))  # Refuses an unknown name now, not after training.
    self.hidden_units = critics.units(self.default_hidden_units if hidden_units is None
                                      else hidden_units)
    self.embedding_dim = int(embedding_dim)
    self.activation = self.default_activation if activation is None else activation
    self.batch_size = int(batch_size)
    if eval_batch_size is not None and eval_batch_size < 2:
      raise ValueError(f"eval_batch_size must be >= 2, got {eval_batch_size}.")
    self.eval_batch_size = None if eval_batch_size is None else int(eval_batch_size)
    self.learning_rate = float(self.default_learning_rate if learning_rate is None
                               else learning_rate)
    if weight_decay is not None and not weight_decay >= 0:
      raise ValueError(f"weight_decay must be >= 0, got {weight_decay}.")
    self.weight_decay = None if weight_decay is None else float(weight_decay)
    self.max_steps = int(max_steps)
    self.eval_every = int(eval_every)
    self.patience = int(patience)
    if lr_drops < 0:
      raise ValueError(f"lr_drops must be >= 0, got {lr_drops}.")
    self.lr_drops = int(lr_drops)
    self.held_out_fraction = float(held_out_fraction)
    self.num_last = int(num_last)
    if not noise_std > 0:
      raise ValueError(f"noise_std must be > 0 (I(X;T) of a noiseless layer is infinite), "
                       f"got {noise_std}.")
    self.noise_std = float(noise_std)
    self.channel_prior = bool(channel_prior)
    self.standardize = bool(standardize)
    if tail is not None and not tail > 0:
      raise ValueError(f"tail must be > 0 (or None for an affine standardisation), got "
                       f"{tail}.")
    self.tail = None if tail is None else float(tail)
    if not 0.0 < ci_level < 1.0:
      raise ValueError(f"ci_level must lie in (0, 1), got {ci_level}.")
    self.ci_level = float(ci_level)
    self.seed = int(seed)
    self.jit_compile = bool(jit_compile)
    if steps_per_call < 1:
      raise ValueError(f"steps_per_call must be >= 1, got {steps_per_call}.")
    self.steps_per_call = int(steps_per_call)
    self.bound_params = dict(bound_params)
    # Also validates the bound's parameters.
    self.all_pairs = make_bound(self.bound_name, **self.bound_params).all_pairs

  @property
  def params(self) -> Dict[str, Any]:
    return dict(
        critic=self.critic, hidden_units=self.hidden_units, embedding_dim=self.embedding_dim,
        activation=self.activation, batch_size=self.batch_size,
        eval_batch_size=self.eval_batch_size, learning_rate=self.learning_rate,
        weight_decay=self.weight_decay,
        max_steps=self.max_steps, eval_every=self.eval_every, patience=self.patience,
        lr_drops=self.lr_drops, held_out_fraction=self.held_out_fraction,
        num_last=self.num_last,
        noise_std=self.noise_std, channel_prior=self.channel_prior,
        standardize=self.standardize, tail=self.tail, ci_level=self.ci_level,
        seed=self.seed, jit_compile=self.jit_compile, steps_per_call=self.steps_per_call,
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

  def _standardization(self):
    if not self.standardize:
      return "none: the critic reads the samples as given"
    tail = ("" if self.tail is None else
            f", then c*asinh(u/c) with c = {self.tail:g} (tails compressed)")
    return ("per coordinate on the training split: u = (v - median) / (IQR/1.349)"
            f"{tail}; the channel noise, if any, is added before, in the activations' units")

  def _fit(self, x, z, critic, x_noise_std=0.0, z_noise_std=0.0, channel_prior=False,
           callback=None, checkpoint=None) -> Tuple[CriticFit, CriticTrainer]:
    x, z, num_train, _ = check_pairs(x, z, self.batch_size, self.held_out_fraction)
    if self.standardize:
      train, _ = split(x.shape[0], self.held_out_fraction, self.seed)  # The trainer's split.
      critic = StandardizedCritic(critic, *robust_scale(x[train], x_noise_std),
                                  *robust_scale(z[train], z_noise_std), tail=self.tail)
    if channel_prior:
      critic = GaussianChannelCritic(critic, self.noise_std)
    trainer = CriticTrainer(
        make_bound(self.bound_name, **self.bound_params), critic, self.batch_size,
        self.learning_rate, weight_decay=self.fit_weight_decay(x.shape[1], z.shape[1], num_train),
        x_noise_std=x_noise_std, z_noise_std=z_noise_std, jit_compile=self.jit_compile,
        seed=self.seed, steps_per_call=self.steps_per_call,
        eval_batch_size=self.fit_eval_batch_size(x.shape[0] - num_train))
    fit = trainer.fit(x, z, max_steps=self.max_steps, eval_every=self.eval_every,
                      patience=self.patience, lr_drops=self.lr_drops,
                      held_out_fraction=self.held_out_fraction,
                      num_last=self.num_last, callback=callback, checkpoint=checkpoint)
    return fit, trainer

  def fit_eval_batch_size(self, num_held: int) -> int:
    """The held-out batch of a fit with ``num_held`` held-out rows: ``eval_batch_size`` if
    given, else all of them (at most `max_eval_batch_size`) for an all-pairs bound with
    the separable critic — InfoNCE's bias, about var(p(z|x)/p(z)) / (2B), then shrinks:
    0.10 of the 2 nats of tfib-mine's d = 20 Gaussian at B = 256, none at 4,000 —
    and ``batch_size`` otherwise."""
    if self.eval_batch_size is not None:
      return self.eval_batch_size
    if self.critic == "separable" and self.all_pairs:
      return max(self.batch_size, min(num_held, self.max_eval_batch_size))
    return self.batch_size

  def fit_weight_decay(self, x_dims: int, z_dims: int, num_train: int) -> float:
    """The weight decay of a fit on ``num_train`` training pairs of Dx- and Dz-dimensional
    samples: ``weight_decay`` if given, else the bound's default, in proportion to the
    input coordinates per training sample (what the critic can overfit),
    min(weight_decay_per_input_and_sample (Dx + Dz) / N_train, max_default_weight_decay)."""
    if self.weight_decay is not None:
      return self.weight_decay
    return min(self.weight_decay_per_input_and_sample * (x_dims + z_dims) / num_train,
               self.max_default_weight_decay)

  def _quantity(self, key: str, x, z, critic, ceiling_nats=None, ceiling_name="",
                **fit_args) -> Tuple[Optional[float], Dict[str, Any], Dict[str, str]]:
    """Fits one quantity; (its value in bits or None, its extras, its flags)."""
    try:
      fit, trainer = self._fit(x, z, critic, **fit_args)
    except TrainingDiverged as error:
      extras = {f"{key}_ci": None, f"{key}_steps": error.step,
                f"{key}_stop_reason": str(error),
                f"{key}_history_bits": [[step, _bits(v)] for step, v in error.history]}
      return None, extras, {f"{key}_diverged": str(error)}
    low, high, error = confidence.interval(trainer.bound, fit, self.ci_level, self.seed)
    if ceiling_nats is not None:  # The quantity itself cannot be higher.
      high = min(high, max(ceiling_nats, low))
    flags = fit_checks.check(key, fit, (low, high), ceiling_nats, ceiling_name)
    value = None if f"{key}_diverged" in flags else _bits(fit.estimate)
    extras = {
        f"{key}_ci": None if value is None else [_bits(low), _bits(high)],
        f"{key}_standard_error_bits": _bits(error),
        f"{key}_in_sample_bits": _bits(fit.train_estimate),
        f"{key}_spread_bits": _bits(fit.spread),
        f"{key}_last_bits": [_bits(v) for v in fit.last_values],
        f"{key}_history_bits": [[step, _bits(v)] for step, v in fit.history],
        f"{key}_steps": fit.steps,
        f"{key}_stop_reason": fit.stop_reason,
        f"{key}_ceiling_bits": _bits(fit.ceiling),
        f"{key}_held_out_samples": fit.num_held_out,
        f"{key}_weight_decay": trainer.weight_decay,
    }
    return value, extras, flags

  def _result(self, i_xt, i_ty, num, h_y, extras, flags) -> MIEstimate:
    failed = fit_checks.failed(flags)
    for reason in flags.values():
      (logging.warning if failed else logging.info)("%s estimate flagged: %s", self.name,
                                                     reason)
    extras = dict(extras, ci_level=self.ci_level, standardization=self._standardization())
    return MIEstimate(estimator=self.name, params=self._record_params(), i_xt=i_xt,
                      i_ty=i_ty, num_samples=num, h_y=h_y, extras=extras, flags=flags,
                      failed=failed)

  def fit_pair(self, x, z, callback=None, checkpoint=None) -> CriticFit:
    """Trains a critic on paired samples and returns the fit (nats, with its history).

    ``checkpoint``: a `critic_training.FitCheckpoint` to resume from and save to. Raises
    `TrainingDiverged` when training produces a non-finite loss or bound.
    """
    x = base.as_finite_activations(x, "x samples")
    z = base.as_finite_activations(z, "z samples")
    return self._fit(x, z, self._new_critic(allow_instance=True), callback=callback,
                     checkpoint=checkpoint)[0]

  def estimate_pair(self, x, z, callback=None, checkpoint=None) -> MIEstimate:
    """I(X;Z) in bits from paired samples x [N, ...], z [N, ...], reported as ``i_xt``."""
    x = base.as_finite_activations(x, "x samples")
    z = base.as_finite_activations(z, "z samples")
    value, extras, flags = self._quantity("i_xt", x, z, self._new_critic(allow_instance=True),
                                          callback=callback, checkpoint=checkpoint)
    return self._result(value, None, int(x.shape[0]), None,
                        dict(extras, quantity="I(X;Z)"), flags)

  def estimate(self, activations, labels=None, inputs=None) -> MIEstimate:
    """I(X; T_σ) and I(T_σ; Y) in bits of one layer's activations [N, ...]."""
    t = base.as_finite_activations(activations).astype(np.float32)
    num = t.shape[0]
    if inputs is not None and np.shape(inputs)[0] != num:
      raise ValueError(f"input count mismatch: {np.shape(inputs)[0]} inputs for {num} "
                       "samples of activations.")
    y = base.as_labels(labels, num)
    i_xt, extras, flags = self._quantity(
        "i_xt", t, t, self._new_critic(allow_instance=False), math.log(num), "log2 N",
        z_noise_std=self.noise_std, channel_prior=self.channel_prior)
    extras.update(quantity=f"I(X; T + N(0, {self.noise_std}^2 I)), I(T + noise; Y)",
                  noise_std=self.noise_std, channel=base.channel_description(self.noise_std))
    i_ty = h_y = None
    if y is not None:
      h_y = base.label_entropy(y)
      if np.unique(y).size == 1:
        i_ty = 0.0  # A constant label carries no information.
        extras["i_ty_stop_reason"] = "one class: I(T;Y) = 0 exactly"
      else:
        one_hot = np.eye(int(y.max()) + 1, dtype=np.float32)[y]
        i_ty, ty_extras, ty_flags = self._quantity(
            "i_ty", t, one_hot, self._new_critic(allow_instance=False), h_y * _LN2, "H(Y)",
            x_noise_std=self.noise_std)
        extras.update(ty_extras)
        flags.update(ty_flags)
    return self._result(i_xt, i_ty, num, h_y, extras, flags)


@register("mine")
class MINEEstimator(VariationalEstimator):
  """MINE: Donsker–Varadhan bound, bias-corrected gradient (Belghazi et al. 2018).

  ``ema_rate`` (default 0.01) is the rate α of the moving average of the partition term
  used in the gradient; ``all_pairs`` takes the marginal pairs from the whole score matrix
  instead of one shuffle of the batch; see `variational_bounds.MINE`.
  """

  bound_name = "mine"
  default_critic = "concat"
  default_hidden_units = (128, 128)
  default_activation = "relu"
  weight_decay_per_input_and_sample = 0.0

  def __init__(self, *args, ema_rate: float = 0.01, all_pairs: bool = False, **kwargs):
    super().__init__(*args, ema_rate=ema_rate, all_pairs=all_pairs, **kwargs)


@register("mine_f")
class MINEfEstimator(VariationalEstimator):
  """MINE-f: the f-divergence (NWJ) bound on shuffled pairs (Belghazi et al. 2018).

  ``all_pairs=True`` uses the whole score matrix, which makes it the "nwj" estimator.
  """

  bound_name = "mine_f"
  default_critic = "concat"
  default_hidden_units = (128, 128)
  default_activation = "relu"
  weight_decay_per_input_and_sample = 0.0

  def __init__(self, *args, all_pairs: bool = False, **kwargs):
    super().__init__(*args, all_pairs=all_pairs, **kwargs)


@register("nwj")
class NWJEstimator(VariationalEstimator):
  """NWJ on all pairs of the batch (Nguyen, Wainwright & Jordan 2010; Poole et al.)."""

  bound_name = "nwj"
  default_learning_rate = 3e-4


@register("infonce")
class InfoNCEEstimator(VariationalEstimator):
  """InfoNCE on all pairs of the batch (Oord et al. 2018); never above log(batch_size)."""

  bound_name = "infonce"


@register("smile")
class SMILEEstimator(VariationalEstimator):
  """SMILE: DV with the partition clipped to [−clip, clip] (Song & Ermon 2020).

  ``clip`` defaults to 5.0; see `variational_bounds.SMILE`.
  """

  bound_name = "smile"

  def __init__(self, *args, clip: float = 5.0, all_pairs: bool = True, **kwargs):
    super().__init__(*args, clip=clip, all_pairs=all_pairs, **kwargs)
