"""Training a (conditional) PixelCNN++: XLA-compiled step, Polyak weights, checkpoints.

Mathematical details
--------------------
The loss is the negative log-likelihood in bits per dimension,

    L = E_batch[ -log2 p(v | h) ] / (H W C),

minimised with Adam. After every step the Polyak (exponential moving) average of the
weights is updated (Polyak & Juditsky 1992; Salimans et al. 2017 evaluate and sample with
it):

    w_ema <- d_t w_ema + (1 - d_t) w,        d_t = min(decay, (1 + t) / (10 + t)),

the warm-up d_t letting the average forget the initialisation quickly. The average lives in
a second network of the same configuration, so `ema_distribution` is an ordinary `PixelCNN`
to evaluate and sample with.

Under a tf.distribute ``strategy`` with R replicas, a global batch of B images (B a multiple
of R) is split in R equal parts; replica r computes its share of the global-batch mean,

    L_r = sum_{i in batch_r} bits_i / B,        L = sum_r L_r,

and the optimizer sums the replicas' gradients (Keras 3's optimizer all-reduces them when
called in replica context), so sum_r grad L_r = grad L: R replicas take the step one device
takes on the same batch, up to the order of floating-point sums. The Polyak average and the
step counter are updated once, after the replicas, in cross-replica context. Dropout draws
different masks on different replicas (`gated_resnet._replica_key`).

Checkpoints (a `tfib.runs.resume_state.ResumeState`) hold the network, the averaged network, the
optimizer state and the step, each variable under its path in the network
(``init_u.kernel``, ``down_u_0.conv1.g``, ``adam.init_u_kernel_momentum``, ...); a trainer
built with a ``checkpoint_dir`` that holds one resumes from the latest, under any strategy.
`fit` draws its batches as a function of (seed, step) (`tfib.data.epoch_order.step_batch`),
so a resumed fit takes the steps the uninterrupted one took.
"""
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tfib.data import epoch_order
from tfib.distributions.pixel_cnn import PixelCNN
from tfib.distributions.pixelcnn_network import PixelCNNNetwork
from tfib.runs.resume_state import ResumeState

__all__ = ["PixelCNNTrainer"]


def _bits_per_dim(dist, images, conditional_input, training):
  """-log2 p(v | h) / (H W C) per image, without value checks (done once on the host)."""
  logp = dist.pixel_log_probs(images, conditional_input, training=training, validate=False)
  return -tf.reduce_sum(logp, [-2, -1]) / (float(np.prod(dist.image_shape)) * np.log(2.0))


def _variables_by_path(variables, *prefixes: str):
  """{name: variable}, the name being the variable's path without the ``prefixes`` (the
  instance names Keras numbers, such as "pixel_cnn_network_3" or "adam_2"), "/" written
  "."."""
  named = {}
  for variable in variables:
    path = variable.path
    for prefix in prefixes:
      for start in (f"{prefix}/", f"{prefix}_"):
        if path.startswith(start):
          path = path[len(start):]
    name = path.replace("/", ".")
    if name in named:
      raise ValueError(f"Two variables share the checkpoint name {name!r}.")
    named[name] = variable
  return named


def _check_created_in_scope(strategy, variables, what):
  """Raises ValueError unless ``variables`` were created under ``strategy.scope()``."""
  if not all(strategy.extended.variable_created_in_scope(v.value) for v in variables):
    raise ValueError(
        f"{what} was created under another tf.distribute strategy than the trainer's "
        f"({type(strategy).__name__}): build it inside `with strategy.scope():` and give "
        f"PixelCNNTrainer the same strategy (strategy=None takes the one whose scope is "
        f"active).")


class PixelCNNTrainer:
  """Trains ``distribution`` (a `tfib.distributions.PixelCNN`).

  ``train_step(images, conditional_input=None)`` runs one compiled step and returns the
  batch's bits/dim (before the update); ``evaluate`` gives bits/dim under the Polyak weights
  (or the raw ones); ``save`` writes a checkpoint; ``fit`` loops over arrays.

  ``strategy``: a `tf.distribute.Strategy` (None: `tf.distribute.get_strategy()`, one device
  outside any scope). The trainer creates the Polyak network, the optimizer's variables and
  the step under ``strategy.scope()``; the ``distribution`` (and an ``optimizer`` given) must
  be built inside that scope already, else ValueError. ``train_step`` and ``fit`` take the
  global batch, which must split evenly over the replicas. ``evaluate`` and sampling run
  outside ``strategy.run``, on one device, with the (mirrored, identical) weights.
  ``distributed`` is False for the default strategy, whose step stays one XLA computation.

  ``data_init``: with a weight-normalised network, the first step of a fresh trainer (step
  0) first runs `PixelCNN.initialize_from_data` on its batch, as PixelCNN++ does, and copies
  the result to the Polyak network. Pass False to keep the weights of the distribution
  given (for instance a network trained before); a resumed trainer never re-initialises.
  """

  def __init__(self, distribution: PixelCNN, learning_rate: float = 1e-3,
               ema_decay: float = 0.9995, optimizer=None,
               checkpoint_dir: Optional[str] = None, max_to_keep: int = 3,
               jit_compile: bool = True,
               strategy: Optional[tf.distribute.Strategy] = None, data_init: bool = True):
    if not 0.0 <= ema_decay < 1.0:
      raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
    self.strategy = strategy or tf.distribute.get_strategy()
    _check_created_in_scope(self.strategy, distribution.network.variables, "The PixelCNN")
    if optimizer is not None:
      _check_created_in_scope(self.strategy, optimizer.variables, "The optimizer")
    self.distribution = distribution
    self.network = distribution.network
    self.ema_decay = float(ema_decay)
    self.jit_compile = jit_compile
    with self.strategy.scope():
      self.distributed = tf.distribute.has_strategy()  # False for the default strategy.
      self.ema_network = PixelCNNNetwork.from_config(self.network.get_config())
      self.ema_network.build()
      self.reset_polyak()
      self.optimizer = optimizer or keras.optimizers.Adam(learning_rate)
      self.optimizer.build(self.network.trainable_variables)
      self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self.ema_distribution = PixelCNN(network=self.ema_network, low=distribution.low,
                                     high=distribution.high,
                                     validate_args=distribution.validate_args,
                                     jit_compile_sampling=distribution.sampler.jit_compile)
    if self.distributed:
      # XLA compiles each replica's forward and backward pass; the cross-replica sums
      # (gradients, loss) and the Polyak update run outside it.
      self._gradients = tf.function(self._replica_gradients, jit_compile=jit_compile)
      self._train_step = tf.function(self._distributed_step_fn)
    else:
      self._train_step = tf.function(self._step_fn, jit_compile=jit_compile)
    self._eval_fns = {}
    self.state = None
    if checkpoint_dir is not None:
      self.state = ResumeState(checkpoint_dir, self.trackables(), keep=max_to_keep)
      self.restore()
    self._pending_data_init = (bool(data_init) and self.network.use_weight_norm
                               and int(self.step.numpy()) == 0)

  def trackables(self):
    """What a resume state holds: every variable by its path in the network (Keras 3 keeps
    sublayers in lists tf.train.Checkpoint does not follow, and numbers instance names), so a
    checkpoint says which weight is which. The dropout seed states are included, so a
    resumed run continues exactly as the original would."""
    return {
        "network": _variables_by_path(self.network.variables, self.network.path),
        "ema_network": _variables_by_path(self.ema_network.variables, self.ema_network.path),
        "optimizer": _variables_by_path(self.optimizer.variables, self.optimizer.name,
                                        self.network.path),
        "step": self.step}

  # --- steps --------------------------------------------------------------------------

  def _check_batch(self, images, conditional_input):
    """Value checks on the host, once per batch, so the compiled step can skip them."""
    if isinstance(images, np.ndarray) or tf.executing_eagerly():
      self.distribution._check_value(images)  # pylint: disable=protected-access
    self.distribution._check_conditional(conditional_input)  # pylint: disable=protected-access

  def _finish_step(self):
    """The Polyak update and the step count (in cross-replica context under a strategy)."""
    t = tf.cast(self.step, tf.float32)
    decay = tf.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
    trainable = {id(v) for v in self.network.trainable_variables}
    for ema, var in zip(self.ema_network.weights, self.network.weights):
      if id(var) in trainable:
        ema.assign(decay * ema + (1.0 - decay) * var)
      else:
        ema.assign(var)
    self.step.assign_add(1)

  def _step_fn(self, images, conditional_input):
    """The whole step on one device, compiled as one XLA computation."""
    variables = self.network.trainable_variables
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(_bits_per_dim(self.distribution, images, conditional_input,
                                          training=True))
    grads = tape.gradient(loss, variables)
    self.optimizer.apply_gradients(zip(grads, variables))
    self._finish_step()
    return loss

  def _replica_gradients(self, images, conditional_input):
    """(L_r, grad L_r): this replica's share of the global-batch mean bits/dim."""
    variables = self.network.trainable_variables
    with tf.GradientTape() as tape:
      bits = _bits_per_dim(self.distribution, images, conditional_input, training=True)
      global_count = tf.cast(tf.size(bits) * self.strategy.num_replicas_in_sync, tf.float32)
      loss = tf.reduce_sum(bits) / global_count
    return loss, tape.gradient(loss, variables)

  def _replica_step(self, images, conditional_input):
    loss, grads = self._gradients(images, conditional_input)
    # In replica context Keras 3's optimizer sums the gradients over the replicas.
    self.optimizer.apply_gradients(zip(grads, self.network.trainable_variables))
    return loss

  def _distributed_step_fn(self, images, conditional_input):
    losses = self.strategy.run(self._replica_step, (images, conditional_input))
    loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)
    self._finish_step()
    return loss

  def _split(self, values):
    """The global batch ``values`` split over the replicas, a distributed value."""
    replicas = self.strategy.num_replicas_in_sync
    batch = int(values.shape[0])
    if batch % replicas:
      raise ValueError(f"a global batch of {batch} images does not split over the "
                       f"{replicas} replicas of the strategy: use a batch size divisible "
                       f"by {replicas}.")
    size = batch // replicas

    def value_fn(context):
      start = context.replica_id_in_sync_group * size
      return values[start:start + size]

    return self.strategy.experimental_distribute_values_from_function(value_fn)

  def _run_step(self, images, conditional_input):
    """One step on a checked global batch (arrays or tensors)."""
    images = tf.convert_to_tensor(images, tf.float32)
    if conditional_input is not None:
      conditional_input = tf.convert_to_tensor(conditional_input, tf.float32)
    if self._pending_data_init:
      self.distribution.initialize_from_data(images, conditional_input)
      self.reset_polyak()
      self._pending_data_init = False
    if self.distributed:
      images = self._split(images)
      if conditional_input is not None:
        conditional_input = self._split(conditional_input)
    return self._train_step(images, conditional_input)

  def reset_polyak(self):
    """Sets the Polyak weights to the network's (after weights were set from outside)."""
    for ema, var in zip(self.ema_network.weights, self.network.weights):
      ema.assign(var)

  def train_step(self, images, conditional_input=None):
    """One compiled optimisation step on a global batch; returns its mean bits/dim."""
    self._check_batch(images, conditional_input)
    return self._run_step(images, conditional_input)

  def _eval_fn(self, use_ema):
    if use_ema not in self._eval_fns:
      dist = self.ema_distribution if use_ema else self.distribution

      def bits(images, conditional_input):  # Values are checked on the host (evaluate).
        return _bits_per_dim(dist, images, conditional_input, training=False)

      self._eval_fns[use_ema] = tf.function(bits, jit_compile=self.jit_compile,
                                            reduce_retracing=True)
    return self._eval_fns[use_ema]

  def evaluate(self, images, conditional_input=None, batch_size: int = 64,
               use_ema: bool = True) -> float:
    """Mean bits/dim over ``images`` (Polyak weights unless ``use_ema=False``)."""
    return float(np.mean(self.evaluate_each(images, conditional_input, batch_size, use_ema)))

  def evaluate_each(self, images, conditional_input=None, batch_size: int = 64,
                    use_ema: bool = True) -> np.ndarray:
    """Bits/dim of each image [N] (Polyak weights unless ``use_ema=False``)."""
    images = np.asarray(images, np.float32)
    self.distribution._check_value(images)  # pylint: disable=protected-access
    fn, bits = self._eval_fn(use_ema), []
    for start in range(0, len(images), batch_size):
      h = None if conditional_input is None else np.asarray(
          conditional_input[start:start + batch_size], np.float32)
      bits.append(fn(images[start:start + batch_size], h).numpy())
    return np.concatenate(bits).astype(np.float64)

  def fit(self, images, conditional_input=None, steps: int = 100, batch_size: int = 32,
          seed: int = 0, log_every: int = 0, save_every: int = 0):
    """``steps`` more steps on global batches of arrays; returns the list of bits/dim.

    The batch of trainer step s is `epoch_order.step_batch` (N, batch_size, seed, s): each
    epoch a fresh permutation, cut into full batches.
    """
    images = np.asarray(images, np.float32)
    self.distribution._check_value(images)  # pylint: disable=protected-access
    history = []
    for _ in range(steps):
      index = epoch_order.step_batch(len(images), batch_size, seed, int(self.step.numpy()))
      h = None if conditional_input is None else np.asarray(conditional_input[index],
                                                            np.float32)
      history.append(float(self._run_step(images[index], h)))
      step = int(self.step.numpy())
      if log_every and step % log_every == 0:
        print(f"step {step}: {history[-1]:.4f} bits/dim", flush=True)
      if save_every and self.state is not None and step % save_every == 0:
        self.save()
    return history

  # --- checkpoints --------------------------------------------------------------------

  def save(self) -> str:
    """Writes a checkpoint (needs ``checkpoint_dir``); returns its path."""
    if self.state is None:
      raise ValueError("PixelCNNTrainer was built without checkpoint_dir; nothing to save to.")
    return self.state.save(int(self.step.numpy()))

  def restore(self, path: Optional[str] = None) -> int:
    """Restores ``path``, or the newest readable checkpoint in ``checkpoint_dir``; returns
    the step."""
    if path is None:
      if self.state is None or self.state.restore()[0] is None:
        return int(self.step.numpy())
    else:
      if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"no checkpoint at {path!r}.")
      tf.train.Checkpoint(**self.trackables()).restore(path).assert_existing_objects_matched()
    self._pending_data_init = False  # Restored weights are never re-initialised.
    return int(self.step.numpy())

  @property
  def checkpoint_dir(self) -> Optional[str]:
    return None if self.state is None else self.state.directory
