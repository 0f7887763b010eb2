"""Training steps per second of MINE: tfib's XLA step against the same step without XLA and
against torch-mist, all measured in this run.

    python bench/bench_mine.py [--batch 256] [--dim 20] [--hidden 256x256] [--rounds 5]

One MINE step everywhere: batch 256 of correlated Gaussians in d = 20, a concatenation
critic MLP([x; z]) with two hidden layers of 256 ReLU units, the Donsker–Varadhan loss with
the moving-average (bias-corrected) gradient, marginal pairs by shuffling within the
batch, one Adam update (learning rate 1e-3). Each loop draws its batches from a resident
training set and reads the losses back after every call (as `fit` does, to check them).

* tfib XLA: `CriticTrainer.train_steps`, ``--steps_per_call`` steps (default 50, as
  `fit` runs them) in one ``tf.function(jit_compile=True)``.
* tfib graph: the same trainer with ``jit_compile=False`` (the same steps as a plain graph).
* the same two with one step per call (reference: Python's per-call cost is then part of
  every step, and torch-mist pays it too).
* torch-mist: ``torch_mist.estimators.mine`` (joint critic, hidden_dims=[256, 256],
  gamma = 1 − tfib's ema_rate), ``loss.backward()`` and ``torch.optim.Adam``. Skipped when
  torch-mist is not installed ("skipped: torch-mist not installed").
* plain PyTorch (reference only): the same critic and loss written directly in PyTorch,
  to tell the framework from torch-mist's own overhead.
* critic fwd+bwd only (reference): the critic's forward and backward pass on 2B rows and
  nothing else, with and without XLA, ``--steps_per_call`` per call. No step can beat
  its compiler's floor, so graph step time / XLA floor time bounds what XLA can gain here
  (the "ceiling" line): on CPU, XLA's dot emitter is slower than the oneDNN kernels the
  graph runs, and these matmuls are most of the step.

The loops run in interleaved rounds (A B C D, A B C D, ...) so that a busy machine slows
them alike; the rates are medians over rounds and the ratios are medians of per-round
ratios. Targets: XLA ≥ 1.5× the graph step; XLA ahead of torch-mist. Both frameworks use
the same number of threads (--threads, default: all cores).
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfib.data import gaussian_tasks  # noqa: E402
from tfib.estimators import critic_training, critics, variational_bounds  # noqa: E402

EMA_RATE = 0.01


def tfib_loop(x, z, batch, hidden, jit_compile, steps_per_call, seed=0):
  trainer = critic_training.CriticTrainer(
      variational_bounds.MINE(ema_rate=EMA_RATE), critics.ConcatCritic(hidden, seed=seed),
      batch, 1e-3, jit_compile=jit_compile, seed=seed, steps_per_call=steps_per_call)
  trainer.build(x.shape[1], z.shape[1])
  x_all, z_all = tf.constant(x), tf.constant(z)
  rng = np.random.default_rng(seed)
  state = {"step": 0}

  def steps(count):
    for _ in range(count // steps_per_call):
      indices = rng.integers(0, x.shape[0], (steps_per_call, batch))
      trainer.train_steps(x_all, z_all, indices, state["step"])  # Reads the losses back.
      state["step"] += steps_per_call

  return steps


def matmul_floor_loop(x, z, batch, hidden, jit_compile, steps_per_call):
  """Only the critic's forward and backward pass on 2B rows: the step's matmul floor.

  Run ``steps_per_call`` times per call, each time on other rows (so that no compiler can
  hoist the work out of the loop), the gradients summed.
  """
  critic = critics.ConcatCritic(hidden, seed=0)
  rows = 2 * batch * steps_per_call
  xs = tf.constant(np.resize(x, (rows, x.shape[1])).reshape(steps_per_call, 2 * batch, -1))
  zs = tf.constant(np.resize(z, (rows, z.shape[1])).reshape(steps_per_call, 2 * batch, -1))
  critic((xs[0], zs[0]))

  @tf.function(jit_compile=jit_compile)
  def forward_backward(xs, zs):
    total = tf.constant(0.0)
    for k in tf.range(steps_per_call):
      with tf.GradientTape() as tape:
        loss = tf.reduce_mean(critic((xs[k], zs[k])))
      total += loss + tf.add_n([tf.reduce_sum(g) for g in
                                tape.gradient(loss, critic.trainable_variables)])
    return total

  def steps(count):
    for _ in range(count // steps_per_call):
      float(forward_backward(xs, zs))

  return steps


def torch_mist_loop(x, z, batch, hidden):
  import torch  # pylint: disable=import-outside-toplevel
  from torch_mist.estimators import mine  # pylint: disable=import-outside-toplevel

  estimator = mine(x_dim=x.shape[1], y_dim=z.shape[1], hidden_dims=list(hidden),
                   neg_samples=1, gamma=1.0 - EMA_RATE)
  optimizer = torch.optim.Adam(estimator.parameters(), lr=1e-3)
  x_all, z_all = torch.from_numpy(x), torch.from_numpy(z)
  generator = torch.Generator().manual_seed(0)

  def steps(count):
    for _ in range(count):
      indices = torch.randint(0, x_all.shape[0], (batch,), generator=generator)
      loss = estimator.loss(x_all[indices], z_all[indices])
      optimizer.zero_grad()
      loss.backward()
      optimizer.step()
      float(loss)

  return steps


def plain_torch_loop(x, z, batch, hidden):
  """The same MINE step written directly in PyTorch (reference, not torch-mist)."""
  import math  # pylint: disable=import-outside-toplevel
  import torch  # pylint: disable=import-outside-toplevel

  torch.manual_seed(0)
  layers, width = [], x.shape[1] + z.shape[1]
  for units in hidden:
    layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
    width = units
  network = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
  optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
  x_all, z_all = torch.from_numpy(x), torch.from_numpy(z)
  state = {"log_ema": None}

  def steps(count):
    for _ in range(count):
      indices = torch.randint(0, x_all.shape[0], (batch,))
      xb, zb = x_all[indices], z_all[indices]
      perm = torch.randperm(batch)
      scores = network(torch.cat([torch.cat([xb, zb], 1),
                                  torch.cat([xb[perm], zb[perm.roll(1)]], 1)], 0))[:, 0]
      joint, marginal = scores[:batch], scores[batch:]
      log_partition = torch.logsumexp(marginal, 0) - math.log(batch)
      batch_term = log_partition.detach()
      if state["log_ema"] is None:
        state["log_ema"] = batch_term
      else:
        state["log_ema"] = torch.logaddexp(math.log1p(-EMA_RATE) + state["log_ema"],
                                           math.log(EMA_RATE) + batch_term)
      loss = -(joint.mean() - torch.exp(log_partition - state["log_ema"]))
      optimizer.zero_grad()
      loss.backward()
      optimizer.step()
      float(loss)

  return steps


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=256)
  parser.add_argument("--dim", type=int, default=20)
  parser.add_argument("--hidden", default="256x256")
  parser.add_argument("--steps", type=int, default=400, help="steps per loop per round")
  parser.add_argument("--steps_per_call", type=int, default=50)
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--threads", type=int, default=os.cpu_count())
  args = parser.parse_args()
  hidden = critics.units(args.hidden)
  tf.config.threading.set_intra_op_parallelism_threads(args.threads)
  tf.config.threading.set_inter_op_parallelism_threads(args.threads)
  x, z = gaussian_tasks.correlated_gaussians(
      args.batch * 40, args.dim, gaussian_tasks.rho_for_mi(4.0, args.dim), seed=0)

  k = args.steps_per_call
  if args.steps % k:
    parser.error(f"--steps ({args.steps}) must be a multiple of --steps_per_call ({k}).")
  loops = {"tfib XLA": tfib_loop(x, z, args.batch, hidden, True, k),
           "tfib graph (no XLA)": tfib_loop(x, z, args.batch, hidden, False, k),
           "tfib XLA, 1 step/call": tfib_loop(x, z, args.batch, hidden, True, 1),
           "tfib graph, 1 step/call": tfib_loop(x, z, args.batch, hidden, False, 1),
           "critic fwd+bwd only, XLA": matmul_floor_loop(x, z, args.batch, hidden, True, k),
           "critic fwd+bwd only, graph": matmul_floor_loop(x, z, args.batch, hidden, False,
                                                           k)}
  try:
    import torch  # pylint: disable=import-outside-toplevel
    torch.set_num_threads(args.threads)
  except ImportError:
    print("skipped: torch-mist not installed")
    print("(torch is not installed either: no PyTorch comparison)")
  else:
    try:
      loops["torch-mist MINE"] = torch_mist_loop(x, z, args.batch, hidden)
    except ImportError:
      print("skipped: torch-mist not installed")
    loops["plain PyTorch MINE (reference)"] = plain_torch_loop(x, z, args.batch, hidden)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

  print(f"tensorflow {tf.__version__}; MINE step: batch {args.batch}, d = {args.dim}, "
        f"concat critic {'x'.join(map(str, hidden))}, Adam; {args.threads} threads; "
        f"{args.rounds} rounds x {args.steps} steps; tfib runs {k} steps per call")
  for steps in loops.values():  # Warm-up: compilation and first-call costs excluded.
    steps(k)
  rates = {name: [] for name in loops}
  for _ in range(args.rounds):
    for name, steps in loops.items():
      start = time.perf_counter()
      steps(args.steps)
      rates[name].append(args.steps / (time.perf_counter() - start))

  for name, values in rates.items():
    print(f"  {name:34s} {statistics.median(values):8.1f} steps/s  "
          f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")

  def ratio(a, b):
    return statistics.median(x / y for x, y in zip(rates[a], rates[b]))

  xla_vs_graph = ratio("tfib XLA", "tfib graph (no XLA)")
  print(f"XLA / graph (no XLA):        {xla_vs_graph:.2f}x  (target >= 1.5x: "
        f"{'met' if xla_vs_graph >= 1.5 else 'MISSED'}), {k} steps per call each")
  print(f"  with 1 step per call:      "
        f"{ratio('tfib XLA, 1 step/call', 'tfib graph, 1 step/call'):.2f}x (reference)")
  print(f"XLA, {k} steps per call / 1: {ratio('tfib XLA', 'tfib XLA, 1 step/call'):.2f}x")
  print(f"ceiling: XLA / graph can reach at most graph step / XLA's critic fwd+bwd = "
        f"{ratio('critic fwd+bwd only, XLA', 'tfib graph (no XLA)'):.2f}x (XLA's own matmuls "
        f"run at {ratio('critic fwd+bwd only, XLA', 'critic fwd+bwd only, graph'):.2f}x "
        "the speed of the graph's oneDNN ones)")
  if "torch-mist MINE" in rates:
    xla_vs_mist = ratio("tfib XLA", "torch-mist MINE")
    print(f"XLA / torch-mist MINE:       {xla_vs_mist:.2f}x  (target > 1x: "
          f"{'met' if xla_vs_mist > 1 else 'MISSED'})")
  if "plain PyTorch MINE (reference)" in rates:
    print(f"XLA / plain PyTorch MINE:    "
          f"{ratio('tfib XLA', 'plain PyTorch MINE (reference)'):.2f}x  (reference only)")


if __name__ == "__main__":
  main()
