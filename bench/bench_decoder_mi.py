"""What tfib-decoder-mi's decoders cost, measured in one run.

1. XLA against the plain graph for a decoder's training step (the quick configuration's
   PixelCNN++ on 14x14x1 images at 16 levels, conditioned on the first ResNet stage), each
   in float32 and mixed bfloat16, as `--jit_compile=auto` and `--mixed_precision=auto` time
   them at the experiment's first start (`tfib.training.fastest_step`: steps per second,
   interleaved rounds), and what they chose; the same step rates in --workers processes
   side by side, each worker's fastest (the choice is made in one process with all the
   cores), and the chosen step's rate together against one process; how far bfloat16
   moves the validation bits/dim of an unconditional decoder (the same weights evaluated
   in bfloat16; one trained in bfloat16 from the same start on the same batches):
   `--mixed_precision` is opt-in if by > 0.01.
2. The pipeline against training every decoder from scratch: on the quick tfib-train run,
   (a) the whole pipeline as tfib-decoder-mi runs it (--warm_start: starts from the previous
   epoch's decoder or from a pretrained conditioning network, early stopping, the step
   auto chose, --workers processes side by side), and (b) --decoders of its conditional
   decoders (all by default) from scratch, in as many processes: random initial weights,
   no pretraining, PixelCNNTrainer's default step (XLA, float32), trained until their
   validation bits/dim is within 0.01 of (a)'s (or --scratch_cap times (a)'s steps). Prints
   both wall times and the ratio of the whole pipeline to training every decoder from
   scratch (the unconditional one as in (a)): target <= 0.4; with --decoders below the
   number of decoders the from-scratch time is theirs scaled to all, and it says so. Also
   per decoder: the steps from scratch at which it reached (a)'s value, and the ratio of
   steps alone (what the starts save, whatever the step costs), by saved epoch; and the
   ratio if the decoders of the third saved epoch on took no time, the lowest that faster
   warm starts can give at the same bits/dim (the first two epochs' decoders have no close
   start: the network's first epoch of training changes h wholesale); and where each warm
   start began (validation bits/dim at step 0) against its source's and the unconditional
   decoder's.
3. The quick configuration end to end (--end_to_end): tfib-train quick + tfib-decoder-mi
   quick, wall time (target <= 30 minutes on 2 CPU cores).

    python bench/bench_decoder_mi.py [--decoders=16] [--end_to_end] [--layers=h2]
        [--warm_start=independent] [--workers=2] [--precision_only]
"""
import argparse
import dataclasses
import functools
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.path.join(REPO, "configs", "decoder_mi_classifier_quick.cfg")
TRAIN_QUICK = os.path.join(REPO, "configs", "train_classifier_quick.cfg")


def _config(layers=None, warm_start=None):
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top
  from tfib.bin import shared_flags  # pylint: disable=g-import-not-at-top
  flags = shared_flags.read_flagfile(QUICK)
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
  if warm_start:
    typed["warm_start"] = warm_start
  typed["mixed_precision"] = None  # As --mixed_precision=auto: settled by DecoderMI.open.
  return decoder_mi.DecoderConfig(**typed)


def _quick_workers() -> int:
  from tfib.bin import shared_flags  # pylint: disable=g-import-not-at-top
  return int(shared_flags.read_flagfile(QUICK).get("workers", 1))


def _train_quick(root):
  run = os.path.join(root, "classifier_quick")
  subprocess.run([sys.executable, "-m", "tfib.bin.train", f"--flagfile={TRAIN_QUICK}",
                  f"--logdir={run}"], check=True, capture_output=True)
  return run


def _decoder(program, conditional_shape, mixed, job="unconditional"):
  """The program's decoder of ``job`` for ``conditional_shape``, in mixed bfloat16 or
  float32."""
  pixelcnn = program._pixelcnn  # pylint: disable=protected-access
  return pixelcnn(conditional_shape, job, mixed_precision=mixed)


def precision_shift(program, steps):
  """How far mixed bfloat16 moves the unconditional decoder's validation bits/dim: the
  decoder trained ``steps`` steps in float32, evaluated in float32 and in bfloat16 (same
  weights), and trained the same steps from the same initial weights on the same batches in
  bfloat16. Returns (float32, same weights in bfloat16, trained in bfloat16)."""
  from tfib.training.decoder_fit import network_weights, warm_start  # pylint: disable=g-import-not-at-top
  from tfib.training.pixelcnn_training import PixelCNNTrainer  # pylint: disable=g-import-not-at-top
  config, validation = program.config, program.levels["validation"]
  trainers = {}
  for mixed in (False, True):
    trainer = PixelCNNTrainer(_decoder(program, None, mixed),
                              learning_rate=config.learning_rate, data_init=False)
    trainer.fit(program.levels["train"], steps=steps, batch_size=config.batch_size,
                seed=config.seed)
    trainers[mixed] = trainer
  same_weights = _decoder(program, None, True)
  warm_start(same_weights, network_weights(trainers[False].ema_distribution))
  evaluator = PixelCNNTrainer(same_weights, data_init=False)
  return (trainers[False].evaluate(validation), evaluator.evaluate(validation, use_ema=False),
          trainers[True].evaluate(validation))


def _worker_step_rates(arguments, directory, workers, chain):
  """One worker's step rates and choice (`fastest_step.fastest` on
  `DecoderMI.training_steps`, the experiment's XLA choice in float32 and, where the hardware
  has it, mixed bfloat16), timed while every worker times, written to its file as JSON."""
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top
  from tfib.training import fastest_step  # pylint: disable=g-import-not-at-top
  program = decoder_mi.DecoderMI(**arguments, log=lambda _: 0)
  steps = program.training_steps(fastest_step.candidates(program.jit_compile, None))
  for step in steps.values():  # Traced and compiled before any worker's timing starts.
    step()
  open(os.path.join(directory, f"ready_{chain[0]}"), "w").close()
  while len(glob.glob(os.path.join(directory, "ready_*"))) < workers:
    time.sleep(0.01)
  choice, rates = fastest_step.fastest(steps)
  with open(os.path.join(directory, chain[0]), "w") as stream:
    json.dump({"choice": choice.name,
               "steps_per_second": {v.name: rate for v, rate in rates.items()}}, stream)


def side_by_side_rates(program, workers, directory):
  """What ``workers`` processes training decoders at the same time, each with its share of
  the cores (tfib.runs.job_chains), measure: a list of `_worker_step_rates` records."""
  from tfib.runs import job_chains  # pylint: disable=g-import-not-at-top
  arguments = dict(program._arguments, run_options={})  # pylint: disable=protected-access
  job_chains.run_chains(functools.partial(_worker_step_rates, arguments, directory, workers),
                        [[f"rate{i}"] for i in range(workers)], workers)
  return [json.load(open(os.path.join(directory, f"rate{i}"))) for i in range(workers)]


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
  # PixelCNNTrainer's default step: XLA, float32.
  trainer = PixelCNNTrainer(_decoder(program, shape, False, job),
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


def _scratch_job(arguments, targets, caps, directory, chain):
  """`_scratch_seconds` of the job ``chain[0]`` in a worker, written to its file."""
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top
  program = decoder_mi.DecoderMI(**arguments, log=lambda _: 0)
  job = chain[0]
  with open(os.path.join(directory, f"scratch_{job}.json"), "w") as stream:
    json.dump(_scratch_seconds(program, job, targets[job], caps[job]), stream)


def scratch_decoders(program, targets, caps, workers, directory):
  """{job: (seconds, bits, steps)} of `_scratch_seconds` for the jobs of ``targets``, in
  ``workers`` processes side by side as the pipeline runs (or in this one)."""
  if workers == 1:
    return {job: _scratch_seconds(program, job, target, caps[job])
            for job, target in targets.items()}
  from tfib.runs import job_chains  # pylint: disable=g-import-not-at-top
  arguments = dict(program._arguments, run_options={})  # pylint: disable=protected-access
  job_chains.run_chains(functools.partial(_scratch_job, arguments, targets, caps, directory),
                        [[job] for job in targets], workers)
  found = {}
  for job in targets:
    with open(os.path.join(directory, f"scratch_{job}.json")) as stream:
      found[job] = tuple(json.load(stream))
  return found


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--decoders", type=int, default=None,
                      help="Conditional decoders timed from scratch (default: all; fewer "
                           "are taken evenly over layers and epochs).")
  parser.add_argument("--warm_start", default=None, choices=["previous_epoch", "independent"],
                      help="The pipeline's starts (default: the quick configuration's).")
  parser.add_argument("--scratch_cap", type=float, default=4.0)
  parser.add_argument("--end_to_end", action="store_true")
  parser.add_argument("--precision_steps", type=int, default=500,
                      help="Steps of the decoders that measure how bfloat16 moves bits/dim.")
  parser.add_argument("--precision_only", action="store_true",
                      help="Stop after the step rates (processes side by side too) and the "
                           "bfloat16 check.")
  parser.add_argument("--workers", type=int, default=None,
                      help="Worker processes of the pipeline and of the decoders from "
                           "scratch (default: the quick configuration's --workers).")
  parser.add_argument("--layers", default=None,
                      help="Only these layers' decoders (e.g. h2), to fit a slow CPU: the "
                           "ratio is then that of their part of the pipeline.")
  args = parser.parse_args()
  args.workers = args.workers or _quick_workers()
  from tfib.experiments import decoder_mi  # pylint: disable=g-import-not-at-top
  from tfib import runs  # pylint: disable=g-import-not-at-top
  from tfib.training import fastest_step, precision  # pylint: disable=g-import-not-at-top
  from tfib.runs.job_chains import usable_cores  # pylint: disable=g-import-not-at-top

  with tempfile.TemporaryDirectory() as root:
    start = time.perf_counter()
    source = _train_quick(root)
    train_seconds = time.perf_counter() - start
    print(f"tfib-train quick configuration: {train_seconds:.0f} s", flush=True)
    program = decoder_mi.DecoderMI(source, _config(args.layers, args.warm_start),
                                   os.path.join(root, "decoders"), jit_compile=None,
                                   log=lambda _: 0)
    start = time.perf_counter()
    program.open()  # Times the step's variants for the automatic choice.
    settling = time.perf_counter() - start
    settled = runs.read_manifest(program.logdir)["config"][decoder_mi.STEP]
    recorded = settled["steps_per_second"]
    chosen = fastest_step.Variant(program.jit_compile, program.config.mixed_precision).name
    print(f"decoder training step (quick configuration, conditioned on "
          f"{program.config.layers[0]} at epoch {program.config.epochs[0]}), timed by "
          f"--jit_compile=auto --mixed_precision=auto at the experiment's first start in "
          f"{settling:.0f} s (steps/s, median of interleaved rounds): " +
          "; ".join(f"{name} {rate:.2f}" for name, rate in recorded.items()))

    def recorded_rate(jit, mixed):
      return recorded.get(fastest_step.Variant(jit, mixed).name)

    for mixed in (False, True):
      if recorded_rate(False, mixed) and recorded_rate(True, mixed):
        print(f"  XLA / plain graph, {'mixed bfloat16' if mixed else 'float32'}: "
              f"{recorded_rate(True, mixed) / recorded_rate(False, mixed):.2f}x")
    for jit in (False, True):
      if recorded_rate(jit, False) and recorded_rate(jit, True):
        print(f"  mixed bfloat16 / float32, {'XLA' if jit else 'plain graph'}: "
              f"{recorded_rate(jit, True) / recorded_rate(jit, False):.2f}x")
    features = ", ".join(precision.cpu_bfloat16_features()) or "none"
    print(f"  chose {chosen} (bfloat16 only if >= {fastest_step.BFLOAT16_MARGIN:.2f}x "
          f"float32's; this CPU's bfloat16 instructions: {features}): the pipeline below "
          "trains with it and counts those seconds", flush=True)
    workers = min(args.workers, len(program.chains()))
    if workers > 1:
      measured = side_by_side_rates(program, workers, root)
      together = {name: sum(m["steps_per_second"][name] for m in measured)
                  for name in measured[0]["steps_per_second"]}
      choices = [m["choice"] for m in measured]
      agreement = (f"{chosen} in every worker, as the first start chose" if set(choices) ==
                   {chosen} else f"{'; '.join(choices)}, not all the first start's {chosen}: "
                   "the choice is made in one process with all the cores")
      print(f"{workers} worker processes side by side, {max(1, usable_cores() // workers)} "
            f"thread(s) each (--workers={workers}), steps/s together (interleaved rounds in "
            "each): " + "; ".join(f"{name} {rate:.2f}" for name, rate in together.items()) +
            f"; the fastest: {agreement}")
      if chosen in together and chosen in recorded:
        print(f"  {chosen}: {together[chosen]:.2f} steps/s together, "
              f"{together[chosen] / recorded[chosen]:.2f}x one process of {usable_cores()}",
              flush=True)

    fp32, same, trained = precision_shift(program, args.precision_steps)
    print(f"mixed bfloat16 and bits/dim (unconditional decoder, {args.precision_steps} steps, "
          f"validation): float32 {fp32:.4f}; the same weights in bfloat16 {same:.4f} "
          f"(moves {same - fp32:+.4f}); trained in bfloat16 {trained:.4f} (moves "
          f"{trained - fp32:+.4f}); opt-in where it moves bits/dim by more than 0.01: "
          f"{'opt-in' if max(abs(same - fp32), abs(trained - fp32)) > 0.01 else 'within 0.01'}")
    if args.precision_only:
      return 0

    # The pipeline as tfib-decoder-mi runs it.
    start = time.perf_counter()
    program.run(decoder_mi.UNCONDITIONAL)
    unconditional = time.perf_counter() - start
    start = time.perf_counter()
    program.run_all(workers)
    conditional_wall = time.perf_counter() - start
    results = {job: program.run(job) for job in program.jobs()}  # Finished: read back.
    conditional = program.jobs()[1:]
    for job in program.jobs():
      print(f"  {job}: fit {results[job]['seconds']:.0f} s, {results[job]['steps']} steps, "
            f"validation {results[job]['initial_validation_bits_per_dim']:.4f} at step 0, "
            f"{results[job]['validation_bits_per_dim']:.4f} bits/dim kept", flush=True)
    fitting = sum(results[j]["seconds"] for j in conditional)
    print(f"pipeline: the step's timing {settling:.0f} s; unconditional decoder "
          f"{unconditional:.0f} s; {len(conditional)} "
          f"conditional decoders {conditional_wall:.0f} s in {workers} process(es) "
          f"({program.config.warm_start} warm starts, early stopping), their fits "
          f"{fitting:.0f} s of process time (pretraining included), the rest held-out NLL, "
          "probes and samples")
    pipeline = settling + unconditional + conditional_wall
    minutes = (train_seconds + pipeline) / 60
    if args.layers:
      print(f"(layers {args.layers} only: {minutes:.1f} min for their part of the quick "
            "configuration; the 30-minute target is for all four)")
    else:
      print(f"quick configuration, its two parts as measured here (tfib-train + the decoder "
            f"pipeline): {minutes:.1f} min  target <= 30 min  "
            f"{'PASS' if minutes <= 30 else 'FAIL'} (--end_to_end runs the two programs as a "
            "user does)")
    count = len(conditional) if args.decoders is None else min(args.decoders, len(conditional))
    count = max(workers, count // workers * workers)  # Every worker busy to the end.
    timed = [conditional[i] for i in np.unique(np.linspace(0, len(conditional) - 1, count)
                                                .round().astype(int))]
    caps = {job: int(args.scratch_cap * max(results[job]["steps"], program.config.eval_every))
            for job in timed}
    start = time.perf_counter()
    scratch = scratch_decoders(program, {job: results[job]["validation_bits_per_dim"]
                                         for job in timed}, caps, workers, root)
    scratch_wall = time.perf_counter() - start
    steps_pipeline, steps_scratch = 0, 0
    for job in timed:
      result, (seconds, bits, reached_steps) = results[job], scratch[job]
      steps_pipeline += result["steps"]
      steps_scratch += reached_steps
      begun = (f"from {result['warm_start']}" if result["warm_start"] else
               f"conditioning pretrained {result['conditioning_pretraining_steps']} steps")
      fell_back = ", fell back to the unconditional one" if result[
          "fell_back_to_unconditional"] else ""
      reached = ("reached it" if np.isfinite(bits) else
                 f"did not reach it in {caps[job]} steps (a lower bound on its time)")
      print(f"  {job}: pipeline ({begun}{fell_back}) fit {result['seconds']:.0f} s, "
            f"{result['steps']} steps to {result['validation_bits_per_dim']:.4f} bits/dim; "
            f"from scratch {seconds:.0f} s ({reached_steps} steps) to within 0.01 — {reached}")
    print(f"  steps alone: pipeline {steps_pipeline} / from scratch {steps_scratch} = "
          f"{steps_pipeline / steps_scratch:.2f}x (what the starts and early stopping save, "
          "whatever a step costs)")
    baseline = unconditional + scratch_wall * len(conditional) / len(timed)
    ratio = pipeline / baseline
    note = "" if len(timed) == len(conditional) else (
        f" (from scratch: {len(timed)} of the {len(conditional)} decoders took "
        f"{scratch_wall:.0f} s, times {len(conditional)}/{len(timed)})")
    print(f"whole pipeline / every decoder from scratch, both in {workers} process(es): "
          f"{pipeline:.0f} s / {baseline:.0f} s = {ratio:.2f}x{note}  target <= 0.4  "
          f"{'PASS' if ratio <= 0.4 else 'FAIL'}")
    # Where the starts can help: a decoder of the first saved epoch has no earlier one, and
    # the second epoch's h is the network after its first epoch of training, far from the
    # initial network's. The pipeline's time if every later decoder cost nothing:
    epochs = program.config.epochs
    later = [j for j in conditional if epochs.index(results[j]["epoch"]) >= 2]
    free_later = pipeline - sum(results[j]["seconds"] for j in later) / workers
    print(f"  the same if the {len(later)} decoders of saved epochs "
          f"{', '.join(map(str, epochs[2:]))} took no time (their fits out, the rest as "
          f"measured): {free_later:.0f} s / {baseline:.0f} s = {free_later / baseline:.2f}x, "
          "the lowest ratio faster later decoders can give at these bits/dim")
    warm = [j for j in conditional if results[j]["warm_start"]]
    if warm:
      own = results[decoder_mi.UNCONDITIONAL]["validation_bits_per_dim"]
      worse = [j for j in warm if results[j]["initial_validation_bits_per_dim"] > own]
      starts = [f"{j} {results[j]['initial_validation_bits_per_dim']:.3f} (from "
                f"{results[j]['warm_start']}'s "
                f"{results[results[j]['warm_start']]['validation_bits_per_dim']:.3f})"
                for j in warm]
      print(f"  the {len(warm)} warm starts at step 0, validation bits/dim (the previous "
            f"epoch's decoder on this epoch's h): {', '.join(starts)}; {len(worse)} above "
            f"the unconditional decoder's {own:.3f}: h moves between saved epochs more than "
            "a trained decoder tolerates, so the starts save few steps")
    for epoch in epochs:
      group = [j for j in timed if results[j]["epoch"] == epoch]
      if group:
        print(f"  saved epoch {epoch} ({', '.join(group)}): steps pipeline / from scratch "
              f"{sum(results[j]['steps'] for j in group)} / "
              f"{sum(scratch[j][2] for j in group)}")

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
