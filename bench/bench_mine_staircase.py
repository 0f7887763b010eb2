"""The MI staircase (Poole et al. 2019; Song & Ermon 2020): bias and variance per step.

    python bench/bench_mine_staircase.py [--steps_per_level 4000] [--critic separable]

X, Z are correlated Gaussians in d = 20; the true I(X;Z) steps through 2, 4, 6, 8, 10
nats, ``--steps_per_level`` training steps each, with fresh samples (batch 64) at every
step. One critic per estimator is trained through the whole staircase (Adam, learning
rate 5e-4, 2×256 ReLU hidden layers). MINE and MINE-f contrast each pair with one shuffle
of the batch (B marginal pairs, as Belghazi et al.); "mine:all", NWJ, InfoNCE and SMILE
use all B(B − 1) off-diagonal pairs of the score matrix (as Poole et al. and Song & Ermon
do for every estimator). Each step's estimate is the bound on that step's
batch before the update (what the papers plot); for each level the table gives, over the
last half of its steps (the critic has adapted to the new level by then):

    bias = mean(estimate) − I,   variance = var(estimate),   MSE = bias² + variance   (nats)

Expected shape (the papers' findings): InfoNCE has low variance but saturates at
log 64 ≈ 4.16 nats, so its bias grows past 4 nats; MINE / MINE-f / NWJ are less biased but
their variance grows roughly like e^I; SMILE (τ = 5) trades a little bias for much less
variance.
"""
import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfib.data import gaussian_tasks  # noqa: E402
from tfib.estimators import critic_training, critics, variational_bounds  # noqa: E402

LEVELS = (2.0, 4.0, 6.0, 8.0, 10.0)


def run_staircase(spec, args):
  """Per-step estimates (nats) of one estimator through the staircase, and its fate."""
  name, _, variant = spec.partition(":")
  params = {"clip": 5.0} if name == "smile" else {}
  if variant == "all":
    params["all_pairs"] = True
  bound = variational_bounds.make_bound(name, **params)
  critic = critics.make_critic(args.critic, critics.units(args.hidden),
                               embedding_dim=args.embedding_dim, seed=args.seed)
  trainer = critic_training.CriticTrainer(bound, critic, args.batch, args.learning_rate,
                                          seed=args.seed)
  trainer.build(args.dim, args.dim)
  rng = np.random.default_rng(args.seed)
  indices = np.arange(args.batch, dtype=np.int32)
  estimates = np.full(len(LEVELS) * args.steps_per_level, np.nan)
  step = 0
  for mi in LEVELS:
    rho = gaussian_tasks.rho_for_mi(mi, args.dim)
    for _ in range(args.steps_per_level):
      x = rng.standard_normal((args.batch, args.dim)).astype(np.float32)
      z = (rho * x + math.sqrt(1 - rho * rho)
           * rng.standard_normal((args.batch, args.dim))).astype(np.float32)
      loss, value = trainer.train_step(x, z, indices, step)
      loss, value = float(loss), float(value)
      if not (math.isfinite(loss) and math.isfinite(value)):
        return estimates, f"diverged at step {step + 1} (true MI {mi:g} nats): loss {loss}"
      estimates[step] = value
      step += 1
  return estimates, "ok"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps_per_level", type=int, default=4000)
  parser.add_argument("--estimators", default="mine,mine:all,mine_f,nwj,infonce,smile",
                      help="names; ':all' takes MINE's marginal pairs from the whole score "
                      "matrix instead of one shuffle")
  parser.add_argument("--critic", default="separable", choices=["separable", "concat"])
  parser.add_argument("--hidden", default="256x256")
  parser.add_argument("--embedding_dim", type=int, default=32)
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--dim", type=int, default=20)
  parser.add_argument("--learning_rate", type=float, default=5e-4)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  print(f"MI staircase: d = {args.dim}, batch {args.batch}, {args.critic} critic "
        f"{args.hidden}, {args.steps_per_level} steps per level, true MI "
        f"{', '.join(f'{m:g}' for m in LEVELS)} nats; statistics over the last half of each "
        "level (nats)")
  print(f"InfoNCE ceiling log({args.batch}) = {math.log(args.batch):.3f} nats")
  print(f"{'estimator':9s} {'true MI':>7s} {'mean':>8s} {'bias':>8s} {'variance':>9s} "
        f"{'MSE':>9s}")
  half = args.steps_per_level // 2
  for name in [spec.strip() for spec in args.estimators.split(",")]:
    started = time.perf_counter()
    estimates, fate = run_staircase(name, args)
    seconds = time.perf_counter() - started
    for k, mi in enumerate(LEVELS):
      window = estimates[k * args.steps_per_level + half:(k + 1) * args.steps_per_level]
      if np.isnan(window).any():
        print(f"{name:9s} {mi:7.1f} {'(no estimate: ' + fate + ')'}")
        continue
      bias, variance = window.mean() - mi, window.var()
      print(f"{name:9s} {mi:7.1f} {window.mean():8.3f} {bias:+8.3f} {variance:9.4f} "
            f"{bias * bias + variance:9.4f}")
    print(f"{name:9s} {fate}; {len(estimates) / seconds:.0f} steps/s")
    print()


if __name__ == "__main__":
  main()
