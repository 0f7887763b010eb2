"""tfib-mine: mutual information I(X;Z) between two arrays, with a MINE-family estimator.

Reads paired samples x [N, ...] and z [N, ...] from .npy or .npz files (row i of x goes
with row i of z), or generates the correlated-Gaussian task with a known answer; trains a
critic on the chosen bound (default: InfoNCE with the defaults chosen on the ground-truth
suite, see `tfib.estimators.mine`; inputs standardised on the training split; held-out
early stopping) and prints the estimate in bits with its 90% confidence interval. An
estimate that failed a check (diverged, did not converge, is not above noise) is printed
as such, with the reason, never as a plain number. Training curves go to TensorBoard
under --logdir, the result to a JSON file.

Exit codes: 0 an estimate; 1 training diverged (no number); 2 bad input data; 3 the
estimate failed a check (printed with its reason, not to be used).

    tfib-mine --x=acts.npy --z=labels.npy
    tfib-mine --x=data.npz:x --z=data.npz:z --estimator=mine --hidden_units=64x64
    tfib-mine --task=gaussian --dim=20 --true_mi_bits=2.885390
    tensorboard --logdir runs/mine
"""
import inspect
import math
import os
import sys

from absl import app
from absl import flags
from absl import logging
import numpy as np

from tfib import runs
from tfib.bin import shared_flags
from tfib.data import gaussian_tasks
from tfib.estimators import registry
from tfib.estimators import mine as mine_estimators  # Registers the family.
from tfib.experiments import mine as mine_experiment

FLAGS = flags.FLAGS
ESTIMATORS = ("mine", "mine_f", "infonce", "nwj", "smile")
# One source of truth for the defaults: the estimators' own (chosen on the suite).
_DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(
    mine_estimators.VariationalEstimator.__init__).parameters.items()}

flags.DEFINE_string("x", "", "Samples of X: file.npy, or file.npz:key (key optional when the "
                    ".npz holds one array).")
flags.DEFINE_string("z", "", "Samples of Z, paired row by row with --x; same forms.")
flags.DEFINE_enum("task", "", ["", "gaussian"],
                  "A built-in task instead of --x/--z: 'gaussian' samples X, Z in --dim "
                  "dimensions with per-dimension correlation --rho (or --true_mi_bits).")
flags.DEFINE_integer("dim", 20, "Dimension of the Gaussian task.")
flags.DEFINE_float("rho", None, "Per-dimension correlation of the Gaussian task.")
flags.DEFINE_float("true_mi_bits", None,
                  "True I(X;Z) of the Gaussian task, in bits like every number tfib prints "
                  "(sets --rho; 1 nat = 1.4427 bits).")
flags.DEFINE_integer("num_samples", 20000, "Samples of the Gaussian task.")
flags.DEFINE_enum("estimator", mine_estimators.DEFAULT_ESTIMATOR, ESTIMATORS,
                  "The bound the critic is trained on.")
flags.DEFINE_enum("critic", "", ["", "concat", "separable"],
                  "Critic architecture; empty: the estimator's default (concat for "
                  "mine/mine_f, separable for infonce/nwj/smile).")
flags.DEFINE_string("hidden_units", "",
                    "Hidden widths of the critic, e.g. 128x128; empty: the estimator's "
                    "default (128x128 for mine/mine_f, 128x128x128 for the others).")
flags.DEFINE_integer("embedding_dim", _DEFAULTS["embedding_dim"],
                     "Embedding size of the separable critic.")
flags.DEFINE_string("activation", "",
                    "Activation of the critic's hidden layers (a Keras name); empty: the "
                    "estimator's default (relu for mine/mine_f, silu for the others).")
shared_flags.define_batch_size(_DEFAULTS["batch_size"])
shared_flags.define_learning_rate(None)
flags.FLAGS["learning_rate"].help += (" Unset: the estimator's default (3e-4 for nwj, 1e-3 "
                                      "for the others).")
flags.DEFINE_float("weight_decay", None, "Decoupled (AdamW) weight decay; unset: the "
                   "estimator's default (0 for mine/mine_f; for the others 240 (Dx + Dz) / "
                   "N_train, at most 6).",
                   lower_bound=0.0)
flags.DEFINE_integer("max_steps", _DEFAULTS["max_steps"], "Maximum training steps.")
flags.DEFINE_integer("eval_every", _DEFAULTS["eval_every"],
                     "Steps between held-out evaluations.")
flags.DEFINE_integer("patience", _DEFAULTS["patience"],
                     "Evaluations without improvement before the learning rate drops or, "
                     "after --lr_drops drops, training stops.")
flags.DEFINE_integer("lr_drops", _DEFAULTS["lr_drops"],
                     "How many times the learning rate drops (by 0.3) on a held-out plateau "
                     "before training stops.", lower_bound=0)
flags.DEFINE_integer("eval_batch_size", 0,
                     "Rows per held-out batch; 0: the estimator's default (all held-out "
                     "rows, at most 4096, for the separable critic on an all-pairs bound, "
                     "else --batch_size).", lower_bound=0)
flags.DEFINE_float("held_out_fraction", _DEFAULTS["held_out_fraction"],
                   "Fraction of the samples held out.")
flags.DEFINE_integer("num_last", _DEFAULTS["num_last"],
                     "Held-out evaluations the estimate pools.")
flags.DEFINE_bool("standardize", _DEFAULTS["standardize"],
                  "Standardise each coordinate (median, IQR) on the training split, inside "
                  "the critic, tails compressed (--tail).")
flags.DEFINE_float("tail", _DEFAULTS["tail"], "Where the standardisation compresses the "
                   "tails (c of c*asinh(u/c)); 0 for an affine standardisation.")
flags.DEFINE_float("ema_rate", 0.01, "mine: rate of the partition-term moving average.")
flags.DEFINE_bool("all_pairs", False, "mine, mine_f: marginal pairs from the whole score "
                  "matrix instead of one shuffle of the batch.")
flags.DEFINE_float("smile_clip", 5.0, "smile: clipping threshold tau.")
shared_flags.define_jit_compile(_DEFAULTS["jit_compile"])
flags.DEFINE_integer("steps_per_call", _DEFAULTS["steps_per_call"],
                     "Training steps run in one compiled call.", lower_bound=1)
flags.DEFINE_integer("checkpoint_every", 5,
                     "Held-out evaluations between resume states.", lower_bound=1)
shared_flags.define_seed()
shared_flags.define_run_flags(default_logdir="runs/mine")


def _load_array(spec: str, flag: str) -> np.ndarray:
  path, _, key = spec.partition(":") if ".npz:" in spec else (spec, "", "")
  if not os.path.exists(path):
    raise app.UsageError(f"--{flag}: no such file {path!r}.")
  if path.endswith(".npy"):
    if key:
      raise app.UsageError(f"--{flag}: a .npy file holds one array; drop ':{key}'.")
    return np.load(path, allow_pickle=False)
  if not path.endswith(".npz"):
    raise app.UsageError(f"--{flag}: expected a .npy or .npz file, got {path!r}.")
  with np.load(path, allow_pickle=False) as archive:
    keys = list(archive.keys())
    if not key:
      if len(keys) != 1:
        raise app.UsageError(f"--{flag}: {path} holds arrays {keys}; name one as "
                             f"{path}:KEY.")
      key = keys[0]
    if key not in keys:
      raise app.UsageError(f"--{flag}: {path} has no array {key!r}; it holds {keys}.")
    return archive[key]


def _data():
  """(x, z, true MI in nats or None, a description)."""
  if FLAGS.task == "gaussian":
    if FLAGS.x or FLAGS.z:
      raise app.UsageError("Give either --task or --x/--z, not both.")
    if FLAGS.dim < 1 or FLAGS.num_samples < 1:
      raise app.UsageError("--dim and --num_samples must be positive.")
    if (FLAGS.rho is None) == (FLAGS.true_mi_bits is None):
      raise app.UsageError("--task=gaussian needs exactly one of --rho and --true_mi_bits.")
    if FLAGS.true_mi_bits is not None:
      if not FLAGS.true_mi_bits >= 0:
        raise app.UsageError(f"--true_mi_bits must be >= 0, got {FLAGS.true_mi_bits}.")
      rho = gaussian_tasks.rho_for_mi(FLAGS.true_mi_bits * math.log(2), FLAGS.dim)
    else:
      rho = FLAGS.rho
      if not -1 < rho < 1:
        raise app.UsageError(f"--rho must lie in (-1, 1), got {rho}.")
    x, z = gaussian_tasks.correlated_gaussians(FLAGS.num_samples, FLAGS.dim, rho, FLAGS.seed)
    true_mi = gaussian_tasks.gaussian_mi(FLAGS.dim, rho)
    return x, z, true_mi, f"gaussian d={FLAGS.dim} rho={rho:.4f}"
  if not FLAGS.x or not FLAGS.z:
    raise app.UsageError("Give --x and --z (paired sample files), or --task=gaussian.")
  return _load_array(FLAGS.x, "x"), _load_array(FLAGS.z, "z"), None, f"{FLAGS.x} ; {FLAGS.z}"


def _check_flags():
  for name in ("max_steps", "eval_every", "patience", "num_last", "embedding_dim"):
    if getattr(FLAGS, name) < 1:
      raise app.UsageError(f"--{name} must be positive, got {getattr(FLAGS, name)}.")
  if not 0 < FLAGS.held_out_fraction < 1:
    raise app.UsageError(f"--held_out_fraction must lie in (0, 1), got "
                         f"{FLAGS.held_out_fraction}.")
  if not 0 < FLAGS.ema_rate <= 1:
    raise app.UsageError(f"--ema_rate must lie in (0, 1], got {FLAGS.ema_rate}.")
  if not FLAGS.smile_clip > 0:
    raise app.UsageError(f"--smile_clip must be positive, got {FLAGS.smile_clip}.")
  if FLAGS.tail < 0:
    raise app.UsageError(f"--tail must be >= 0 (0: affine), got {FLAGS.tail}.")


def _estimator():
  params = dict(hidden_units=FLAGS.hidden_units or None, embedding_dim=FLAGS.embedding_dim,
                activation=FLAGS.activation or None, weight_decay=FLAGS.weight_decay,
                standardize=FLAGS.standardize,
                tail=FLAGS.tail or None,
                batch_size=FLAGS.batch_size, eval_batch_size=FLAGS.eval_batch_size or None,
                learning_rate=FLAGS.learning_rate,
                max_steps=FLAGS.max_steps, eval_every=FLAGS.eval_every,
                patience=FLAGS.patience, lr_drops=FLAGS.lr_drops,
                held_out_fraction=FLAGS.held_out_fraction,
                num_last=FLAGS.num_last, seed=FLAGS.seed, jit_compile=FLAGS.jit_compile,
                steps_per_call=FLAGS.steps_per_call)
  if FLAGS.critic:
    params["critic"] = FLAGS.critic
  if FLAGS.estimator == "mine":
    params["ema_rate"] = FLAGS.ema_rate
  if FLAGS.estimator in ("mine", "mine_f"):
    params["all_pairs"] = FLAGS.all_pairs
  elif FLAGS.all_pairs:
    raise app.UsageError(f"--all_pairs applies to mine and mine_f; {FLAGS.estimator} always "
                         "uses all pairs of the batch.")
  if FLAGS.estimator == "smile":
    params["clip"] = FLAGS.smile_clip
  try:
    return registry.get(FLAGS.estimator, **params)
  except ValueError as error:
    raise app.UsageError(str(error)) from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  shared_flags.quiet_tensorflow()
  _check_flags()
  x, z, true_mi, source = _data()
  estimator = _estimator()
  try:
    record = mine_experiment.estimate(estimator, x, z, FLAGS.logdir, source,
                                      None if true_mi is None else true_mi / math.log(2),
                                      checkpoint_every=FLAGS.checkpoint_every,
                                      run_options=shared_flags.run_options(),
                                      log=logging.info)
  except runs.RunError as error:
    raise app.UsageError(str(error)) from None
  except ValueError as error:  # Bad data: mismatched counts, too few samples, NaN/Inf.
    print(f"tfib-mine: error: {error}", file=sys.stderr)
    return 2
  results_path = os.path.join(FLAGS.logdir, mine_experiment.RESULTS)
  truth = "" if true_mi is None else f"true I(X;Z) = {true_mi / math.log(2):.4f} bits"
  if record["status"] == "diverged":
    print(f"tfib-mine: no estimate: {record['reason']}", file=sys.stderr)
    if truth:
      print(truth)
    print(f"results: {results_path}")
    return 1
  extras = record["extras"]
  low, high = extras["i_xt_ci"]
  level = round(100 * extras["ci_level"])
  details = (f"[{FLAGS.estimator}, {extras['i_xt_steps']} steps, "
             f"{extras['i_xt_stop_reason']}]")
  if extras["i_xt_ceiling_bits"] is not None:
    details += f" ceiling log2(batch) = {extras['i_xt_ceiling_bits']:.3f} bits"
  if record["status"] == "failed":
    print("I(X;Z): no estimate, the fit failed its checks:")
    for name, reason in record["flags"].items():
      print(f"  {name}: {reason}")
    print(f"  (for diagnosis only: held-out bound {record['i_xt']:.4f} bits, {level}% CI "
          f"[{low:.4f}, {high:.4f}] {details})")
  else:
    print(f"I(X;Z) = {record['i_xt']:.4f} bits, {level}% CI [{low:.4f}, {high:.4f}] "
          f"{details}")
    for name, reason in record["flags"].items():
      print(f"  caveat {name}: {reason}")
  if truth:
    print(truth)
  print(f"logdir: {FLAGS.logdir}  (tensorboard --logdir {FLAGS.logdir})")
  print(f"results: {results_path}")
  return 3 if record["status"] == "failed" else 0


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
