"""What tfib-decoder-mi's decoders cost, measured in one run.

1. XLA against the plain graph for a decoder's training step (the quick configuration's
   PixelCNN++ on 14x14x1 images at 16 levels, conditioned on a ResNet stage), steps per
   second after warm-up: `--jit_compile=auto` follows what this says for the device.
2. The pipeline against training every decoder from scratch: on the quick tfib-train run,
   (a) the whole pipeline as tfib-decoder-mi runs it (warm starts, early stopping), timed
   per decoder, and (b) --decoders of its conditional decoders (one per layer, last epoch
   first) from scratch (random initial weights), trained until their validation bits/dim
   is within 0.01 of (a)'s (or --scratch_cap times (a)'s steps). Prints both times and the
   ratio of the whole pipeline to training every decoder from scratch (the unconditional
   one as in (a)): target <= 0.4; with --decoders below the number of decoders the
   from-scratch time is their mean times that number, and it says so.
3. The quick configuration end to end (--end_to_end): tfib-train quick + tfib-decoder-mi
   quick, wall time (target <= 30 minutes on 2 CPU cores).

    python bench/bench_decoder_mi.py [--decoders=4] [--end_to_end] [--layers=h2]
"""
import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.path.join(REPO, "configs", "decoder_mi_classifier_quick.cfg")
TRAIN_QUICK = os.path.join(REPO, "configs", "train_classifier_quick.cfg")


def _flags(path):
  values = {}
  for line in open(path):
    line = line.strip()
    if line.startswith("--") and "=" in line:
      key, value = line[2:].split("=", 1)
      values[key] = value
  return values


def _config(layers=None):
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top
  flags = _flags(QUICK)
  names = {f.name for f in dataclasses.fields(decoder_mi.DecoderConfig)}
  typed = {}
  for key, value in flags.items():
    if key not in names:
      continue
    default = getattr(decoder_mi.DecoderConfig, key)
    if isinstance(default, tuple):
      typed[key] = tuple(value.split(","))
    else:
      typed[key] = type(default)(value)
  typed.pop("epochs", None)
  if layers:
    typed["layers"] = tuple(layers.split(","))
  return decoder_mi.DecoderConfig(**typed)


def _train_quick(root):
  run = os.path.join(root, "classifier_quick")
  subprocess.run([sys.executable, "-m", "tfib.bin.train", f"--flagfile={TRAIN_QUICK}",
                  f"--logdir={run}"], check=True, capture_output=True)
  return run


def xla_against_graph(program, steps=30):
  """Steps per second of a conditional decoder's training step, with and without XLA."""
  from tfib.training.pixelcnn_training import PixelCNNTrainer  # pylint: disable=g-import-not-at-top
  layer, epoch = program.config.layers[-1], program.config.epochs[-1]
  represent = program._representation(layer, epoch)  # pylint: disable=protected-access
  images = program.levels["train"][:program.config.batch_size]
  h = represent(program.images["train"][:program.config.batch_size])
  rates = {}
  for jit in (False, True):
    program.jit_compile = jit
    trainer = PixelCNNTrainer(program._pixelcnn(h.shape[1:]), jit_compile=jit,  # pylint: disable=protected-access
                              data_init=False)
    for _ in range(3):
      trainer.train_step(images, h)
    start = time.perf_counter()
    for _ in range(steps):
      trainer.train_step(images, h)
    rates[jit] = steps / (time.perf_counter() - start)
  program.jit_compile = False
  return rates


class _Reached(Exception):
  """A from-scratch decoder reached its target."""


def _scratch_seconds(program, job, target, max_steps):
  """(seconds, validation bits/dim, steps) of the decoder of ``job`` trained from random
  initial weights until its validation bits/dim is within 0.01 of ``target`` (NaN bits
  when ``max_steps`` comes first)."""
  from tfib.training.decoder_fit import fit_decoder  # pylint: disable=g-import-not-at-top
  from tfib.training.pixelcnn_training import PixelCNNTrainer  # pylint: disable=g-import-not-at-top

  config = program.config
  layer, epoch = job.split(":")
  represent = program._representation(layer, int(epoch))  # pylint: disable=protected-access
  condition = program._condition(represent)  # pylint: disable=protected-access
  shape = tuple(represent(program.images["test"][:1]).shape[1:])
  trainer = PixelCNNTrainer(program._pixelcnn(shape, job),  # pylint: disable=protected-access
                            learning_rate=config.learning_rate, data_init=False)
  start = time.perf_counter()
  reached = {}

  def stop_at_target(step, metrics):
    if metrics["validation_bits_per_dim"] <= target + 0.01:
      reached.update(step=step, seconds=time.perf_counter() - start,
                     bits=metrics["validation_bits_per_dim"])
      raise _Reached()

  # Early stopping is off: the run stops at the first evaluation within 0.01 of the
  # target, or at the cap.
  try:
    fit_decoder(trainer, program.levels["train"], program.levels["validation"], condition,
                max_steps=max_steps, batch_size=config.batch_size,
                eval_every=config.eval_every, patience=10 ** 9, seed=config.seed,
                on_eval=stop_at_target)
  except _Reached:
    pass
  if reached:
    return reached["seconds"], reached["bits"], reached["step"]
  return time.perf_counter() - start, float("nan"), max_steps


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--decoders", type=int, default=4,
                      help="Conditional decoders timed (one per layer, last epoch first).")
  parser.add_argument("--scratch_cap", type=float, default=4.0)
  parser.add_argument("--end_to_end", action="store_true")
  parser.add_argument("--layers", default=None,
                      help="Only these layers' decoders (e.g. h2), to fit a slow CPU: the "
                           "ratio is then that of their part of the pipeline.")
  args = parser.parse_args()
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top

  with tempfile.TemporaryDirectory() as root:
    start = time.perf_counter()
    source = _train_quick(root)
    train_seconds = time.perf_counter() - start
    print(f"tfib-train quick configuration: {train_seconds:.0f} s")
    program = decoder_mi.DecoderMI(source, _config(args.layers),
                                   os.path.join(root, "decoders"),
                                   log=lambda _: 0)
    program.open()
    rates = xla_against_graph(program)
    faster = "XLA" if rates[True] > rates[False] else "the plain graph"
    print(f"decoder training step (quick configuration): plain graph {rates[False]:.2f} "
          f"steps/s, XLA {rates[True]:.2f} steps/s: {faster} is faster here "
          f"(XLA / graph = {rates[True] / rates[False]:.2f}x)")

    times, results = {}, {}
    for job in program.jobs():  # The pipeline as tfib-decoder-mi runs it.
      start = time.perf_counter()
      results[job] = program.run(job)
      times[job] = time.perf_counter() - start
    unconditional = times["unconditional"]
    conditional = program.jobs()[1:]
    print(f"pipeline: unconditional decoder {unconditional:.0f} s, {len(conditional)} "
          f"conditional decoders {sum(times[j] for j in conditional):.0f} s "
          f"({program.config.warm_start} warm starts, early stopping)")
    minutes = (train_seconds + sum(times.values())) / 60
    if args.layers:
      print(f"(layers {args.layers} only: {minutes:.1f} min for their part of the quick "
            "configuration; the 30-minute target is for all four)")
    else:
      print(f"quick configuration, its two parts as measured here (tfib-train + the decoder "
            f"pipeline): {minutes:.1f} min  target <= 30 min  "
            f"{'PASS' if minutes <= 30 else 'FAIL'} (--end_to_end runs the two programs as a "
            "user does)")
    timed = [f"{layer}:{program.config.epochs[-1]}" for layer in program.config.layers]
    timed = (timed + [j for j in conditional if j not in timed])[:args.decoders]
    scratch = []
    for job in timed:
      target, steps = results[job]["validation_bits_per_dim"], results[job]["steps"]
      cap = int(args.scratch_cap * max(steps, program.config.eval_every))
      seconds, bits, reached_steps = _scratch_seconds(program, job, target, cap)
      scratch.append(seconds)
      reached = ("reached it" if np.isfinite(bits) else
                 f"did not reach it in {cap} steps (a lower bound on its time)")
      print(f"  {job}: pipeline {times[job]:.0f} s to {target:.4f} bits/dim; from scratch "
            f"{seconds:.0f} s ({reached_steps} steps) to within 0.01 — {reached}")
    pipeline = sum(times.values())
    baseline = unconditional + len(conditional) * np.mean(scratch)
    ratio = pipeline / baseline
    note = "" if len(timed) == len(conditional) else (
        f" (from scratch: the mean of {len(timed)} of the {len(conditional)} decoders, times "
        f"{len(conditional)})")
    print(f"whole pipeline / every decoder from scratch: {pipeline:.0f} s / {baseline:.0f} s = "
          f"{ratio:.2f}x{note}  target <= 0.4  {'PASS' if ratio <= 0.4 else 'FAIL'}")

    if args.end_to_end:
      end = os.path.join(root, "end_to_end")
      start = time.perf_counter()
      trained = _train_quick(end)
      subprocess.run([sys.executable, "-m", "tfib.bin.decoder_mi", f"--flagfile={QUICK}",
                      f"--run={trained}"], check=True, capture_output=True)
      minutes = (time.perf_counter() - start) / 60
      print(f"quick configuration end to end (tfib-train quick + tfib-decoder-mi quick): "
            f"{minutes:.1f} min  target <= 30 min  {'PASS' if minutes <= 30 else 'FAIL'}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
