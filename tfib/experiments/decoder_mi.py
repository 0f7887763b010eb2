"""What ``tfib-decoder-mi`` runs: Darlow & Storkey's "What information does a ResNet
compress?" — PixelCNN++ decoders on the layers of a tfib-train run, per layer and epoch.

Mathematical details
--------------------
For images X and a layer's representation H = f_k(X) of the network after k epochs,

    I(X;H) = H(X) − H(X|H),

and a decoder's held-out negative log-likelihood bounds each entropy from above: an
unconditional PixelCNN++ p(x) for H(X), a conditional p(x | h) per (layer, epoch) for
H(X|H). The estimate is the held-out mean of the per-image difference

    I(X;H) ≈ mean_i [−log2 p(x_i) + log2 p(x_i | h_i)]          (bits per image),

with the standard error of that mean (the two likelihoods are paired by image); divided by
H·W·C it is in bits per dimension. I(H;Y) comes from probes trained on frozen h
(`tfib.estimators.probes`: H(Y) minus the held-out cross-entropy, a linear and a small MLP
probe). Both axes give the information plane of the ResNet, one path per layer.

The decoders see X' = quantise(pool(x)): ``downsample``-fold average pooling and ``levels``
grey levels (1 and 256: the images themselves). X' is a function of X, so I(X';H) ≤ I(X;H);
smaller X' trade resolution for CPU time and say so in the results.

Jobs and runs
-------------
Every decoder is a job and a resumable run (`tfib.runs.Run`) under ``logdir``: the job
"unconditional" first, then "<layer>:<epoch>". With ``warm_start="previous_epoch"`` a
conditional decoder starts from the same layer's decoder of the previous saved epoch
(`tfib.training.decoder_fit.warm_start`); the first epoch's, and with "independent" every
conditional decoder, starts from random weights with its conditioning network pretrained
as a factorized decoder of its own h (`tfib.training.conditioning_pretraining`;
``conditioning_pretraining_steps``), so that those jobs need nothing but the unconditional
one (a job array: ``--job``). `DecoderMI.run_all` runs every job, the chains of jobs that
depend on each other (`DecoderMI.chains`) side by side in worker processes if asked
(`tfib.runs.job_chains`). A trained conditional decoder that is not better than the
unconditional one on the validation split is replaced by it (projections of h zero): its
I(X;H) is 0 and flagged, never below 0 because a decoder trained for fewer steps models
the images worse. The decoders read h standardised per channel (mean and standard deviation
of that layer at that epoch over the first 1,000 training images): an invertible affine map
of h, so I(X;H) is unchanged, and the inputs keep one scale although a layer's scale
changes between epochs (2.5-fold between the quick classifier's epochs 0 and 1). Either
way each decoder's held-out NLL bounds H(X|H). A finished job has its ``result.json`` and
is not trained again. ``summary/`` is derived from the finished jobs, rebuilt whole every time:
results.jsonl, TensorBoard (``mi/decoder/<layer>/I_XH``, ``I_HY``, the plane, the sample
grids ``samples/<layer>``), PNGs. The decoders' training curves (bits/dim) are in each
job's run, the validation curve from step 0: the starting point (for a warm start, the
previous epoch's decoder on this epoch's h), also ``initial_validation_bits_per_dim`` in
the job's result.

``mixed_precision`` computes the decoders' convolutions in bfloat16 (weights and the
mixture likelihood stay float32: `tfib.distributions.pixelcnn_network`); it is part of the
configuration, so decoders of the two precisions never share an experiment.
bench/bench_decoder_mi.py measures its speed and how far it moves bits/dim. Either of it and
``jit_compile`` left None is measured at the experiment's first start (the other as given;
`tfib.training.fastest_step`, on a conditional decoder of the first layer and epoch) and
recorded in its manifest (section "step"); every later job and resume reads the record.
"""
import dataclasses
import functools
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

import tfib.training
from tfib import data, runs
from tfib.distributions import PixelCNN
from tfib.estimators import registry
from tfib.estimators.probes import probe_features, probe_information
from tfib.infoplane import plotting
from tfib.layers import activation_model
from tfib.runs import atomic, job_chains, tensorboard
from tfib.runs.step_checkpoint import StepCheckpoint
from tfib.training import fastest_step, input_pipeline
from tfib.training.conditioning_pretraining import pretrain_conditioning
from tfib.training.decoder_fit import fit_decoder, network_weights, warm_start
from tfib.training.pixelcnn_training import PixelCNNTrainer

__all__ = ["DecoderConfig", "DecoderMI", "PROGRAM", "UNCONDITIONAL", "decoder_view"]

PROGRAM = "tfib-decoder-mi"
UNCONDITIONAL = "unconditional"
RESULT = "result.json"
CACHED_H_BYTES = 2 ** 30  # A layer's h of all images is kept in memory up to this size.
ESTIMATORS = ("decoder", "mine")
WARM_STARTS = ("previous_epoch", "independent")
STEP = "step"  # The manifest's record of the training step `DecoderMI.open` settled.


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
  """What defines a decoder-MI experiment (a run directory refuses another)."""

  layers: Tuple[str, ...] = ("h1", "h2", "h3", "h4")
  epochs: Tuple[int, ...] = ()  # Empty: every saved epoch.
  downsample: int = 1
  levels: int = 256
  num_resnet: int = 1
  num_hierarchies: int = 2
  num_filters: int = 32
  num_logistic_mix: int = 5
  dropout_p: float = 0.0
  conditioning_filters: int = 16
  mixed_precision: Optional[bool] = False  # bfloat16 streams, float32 weights and
  # likelihood; None: measured at the first start (`DecoderMI.open`).
  batch_size: int = 32
  learning_rate: float = 2e-3
  max_steps: int = 3000  # Of the unconditional decoder.
  max_steps_conditional: int = 1500
  eval_every: int = 100
  patience: int = 4
  validation_fraction: float = 0.1
  probe_hidden_units: int = 128
  warm_start: str = "previous_epoch"  # Or "independent": jobs independent of each other.
  conditioning_pretraining_steps: int = 1000  # Of a decoder that starts from random weights.
  estimators: Tuple[str, ...] = ("decoder",)
  mine_estimator: str = "infonce"
  num_sampled_images: int = 4
  samples_per_image: int = 4
  seed: int = 0

  def as_dict(self) -> Dict:
    return dataclasses.asdict(self)


def decoder_view(images: np.ndarray, downsample: int, levels: int) -> np.ndarray:
  """X' of uint8 images [N, H, W, C]: ``downsample``-fold average pooling, then ``levels``
  grey levels, as float32 levels 0 .. levels − 1 (what the PixelCNN++ models)."""
  images = np.asarray(images, np.float64)
  if downsample > 1:
    n, height, width, channels = images.shape
    images = images[:, :height // downsample * downsample, :width // downsample * downsample]
    images = images.reshape(n, height // downsample, downsample, width // downsample,
                            downsample, channels).mean(axis=(2, 4))
  return np.round(images / 255.0 * (levels - 1)).astype(np.float32)


def _run_chain(arguments: Dict, chain: List[str]):
  """Runs a chain of jobs in a worker process (`DecoderMI.run_all`)."""
  program = DecoderMI(**arguments, log=functools.partial(print, file=sys.stderr, flush=True))
  for job in chain:
    program.run(job)


def _host_step(trainer: PixelCNNTrainer, images, conditional_input) -> float:
  """One training step, returned once its loss is on the host (devices run ahead)."""
  return float(trainer.train_step(images, conditional_input))


def _save_array(path: str, array: np.ndarray):
  with atomic.replacing(path) as temporary:
    with open(temporary, "wb") as stream:
      np.save(stream, array)


def _read(path: str) -> Optional[Dict]:
  if not os.path.exists(path):
    return None
  with open(path) as stream:
    return json.load(stream)


class DecoderMI:
  """The decoders of one tfib-train run (see the module docstring).

  Raises ValueError before anything trains for layers or epochs the run does not have
  (the message lists what exists), a decoder configuration that does not fit the images,
  or I(H;Y) asked of a run whose data has no labels.
  """

  def __init__(self, source: str, config: DecoderConfig, logdir: Optional[str] = None,
               run_options: Optional[Dict] = None, data_dir: Optional[str] = None,
               jit_compile: Optional[bool] = False, log=print):
    self._arguments = dict(source=source, config=config, logdir=logdir, data_dir=data_dir,
                           jit_compile=jit_compile)  # What a worker process builds it from.
    self.source = os.path.abspath(source)
    manifest = runs.read_manifest(self.source)
    if manifest.get("program") != "tfib-train":
      raise ValueError(f"{self.source} is a run of {manifest.get('program')}, not of "
                       "tfib-train: decoders read a tfib-train run.")
    captured = manifest["config"]["model"]["capture_layers"]
    missing = [layer for layer in config.layers if layer not in captured]
    if missing:
      raise ValueError(f"{self.source} has no layer {', '.join(missing)}; its layers: "
                       f"{', '.join(captured)}.")
    saved = tfib.training.saved_epochs(self.source)
    epochs = tuple(config.epochs) or tuple(saved)
    absent = [e for e in epochs if e not in saved]
    if absent:
      raise ValueError(f"{self.source} has no network saved at epoch "
                       f"{', '.join(map(str, absent))}; saved epochs: {saved or 'none yet'}.")
    if config.warm_start not in WARM_STARTS:
      raise ValueError(f"warm_start must be one of {', '.join(WARM_STARTS)}, got "
                       f"{config.warm_start!r}.")
    for name in config.estimators:
      if name not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {name!r} for the decoder program; choose from "
                         f"{', '.join(ESTIMATORS)}.")
    self.config = dataclasses.replace(config, epochs=epochs)
    self.mode = manifest["config"]["train"]["mode"]
    self.logdir = os.path.abspath(logdir or os.path.join(self.source, "decoder_mi"))
    self.run_options = dict(run_options or {})
    self.jit_compile = jit_compile
    self.log = log
    train = manifest["config"]["train"]
    split = input_pipeline.load_image_data(train["dataset"], data_dir,
                                           train["max_train_examples"],
                                           train["max_eval_examples"])
    if len(np.unique(split.train_labels)) < 2:
      raise ValueError(f"I(H;Y) needs labels, and the images of {self.source} have none "
                       "(one class): decoders of I(X;H) only are not supported.")
    order = np.random.default_rng([config.seed, 7]).permutation(len(split.train_images))
    num_validation = max(1, int(round(config.validation_fraction * len(order))))
    self.images = {"train": split.train_images[np.sort(order[num_validation:])],
                   "validation": split.train_images[np.sort(order[:num_validation])],
                   "test": split.eval_images}
    self.labels = {"train": split.train_labels[np.sort(order[num_validation:])],
                   "validation": split.train_labels[np.sort(order[:num_validation])],
                   "test": split.eval_labels}
    self.levels = {name: decoder_view(images, config.downsample, config.levels)
                   for name, images in self.images.items()}
    self.image_shape = self.levels["train"].shape[1:]
    try:
      self._pixelcnn(None)  # Refuses an architecture that does not fit the images.
    except ValueError as error:
      raise ValueError(f"The decoder does not fit the images ({self.image_shape} after "
                       f"downsample={config.downsample}): {error}") from None

  # --- the plan -------------------------------------------------------------------------

  def jobs(self) -> List[str]:
    return [UNCONDITIONAL] + [f"{layer}:{epoch}" for layer in self.config.layers
                              for epoch in self.config.epochs]

  def chains(self) -> List[List[str]]:
    """The conditional jobs in chains: each chain in order, chains independent of each
    other (a layer's epochs with previous-epoch warm starts, else one job each)."""
    if self.config.warm_start == "independent":
      return [[job] for job in self.jobs()[1:]]
    return [[f"{layer}:{epoch}" for epoch in self.config.epochs]
            for layer in self.config.layers]

  def _directory(self, job: str) -> str:
    if job == UNCONDITIONAL:
      return os.path.join(self.logdir, UNCONDITIONAL)
    layer, epoch = job.split(":")
    return os.path.join(self.logdir, f"{layer}_epoch{int(epoch):04d}")

  def done(self, job: str) -> bool:
    return os.path.exists(os.path.join(self._directory(job), RESULT))

  def open(self):
    """Checks (or creates) the experiment's manifest and settles the training step
    (`_settle_step`); nothing is trained. Of two first starts at once (jobs of an array
    started together), the one that creates the manifest records its step, and the other
    then reads that record as any later start does."""
    given = self.config, self.jit_compile
    first_start = (self.run_options.get("overwrite")
                   or not runs.is_run_directory(self.logdir))
    experiment = runs.Run(self.logdir, PROGRAM, **self.run_options)
    self._settle_step(experiment)
    experiment.declare("decoders", self.config.as_dict())
    experiment.declare("source", {"run": self.source})
    self.run_options.pop("overwrite", None)  # The first open's only.
    try:
      experiment.open()
    except runs.ConfigMismatchError:
      if not first_start:
        raise
      self.log("another start created the experiment while this one settled its step: "
               "reading its record")
      self.config, self.jit_compile = given
      self.open()  # The manifest exists now: its record is read, not made.

  def _settle_step(self, experiment: runs.Run):
    """Resolves ``jit_compile`` and ``config.mixed_precision`` left None: as the
    experiment's manifest records them, or at its first start by timing the variants
    (`fastest_step`) and recording the choice and the rates. An experiment made before the
    record keeps the precision it holds. A given ``jit_compile`` that differs from the
    record holds for this process only (XLA and the plain graph differ only in rounding);
    the precision is part of the configuration (`open` refuses another)."""
    experiment.check()  # Another program's directory is refused before anything is timed.
    held = {}
    if runs.is_run_directory(self.logdir) and not self.run_options.get("overwrite"):
      held = runs.read_manifest(self.logdir)["config"]
    record = held.get(STEP)
    if not record:
      mixed = self.config.mixed_precision
      if mixed is None and "decoders" in held:
        mixed = held["decoders"]["mixed_precision"]
      record = self._time_step(self.jit_compile, mixed)
      experiment.declare(STEP, record)
    if self.jit_compile is None:
      self.jit_compile = record["jit_compile"]
    elif self.jit_compile != record["jit_compile"]:
      self.log(f"--jit_compile={str(self.jit_compile).lower()} here; the experiment "
               f"recorded {str(record['jit_compile']).lower()} at its first start")
    if self.config.mixed_precision is None:
      self.config = dataclasses.replace(self.config,
                                        mixed_precision=record["mixed_precision"])
    self._arguments.update(config=self.config, jit_compile=self.jit_compile)

  def _time_step(self, jit_compile: Optional[bool], mixed_precision: Optional[bool]) -> Dict:
    """The step as given, its automatic (None) parts the fastest variant (`training_steps`)."""
    variants = fastest_step.candidates(jit_compile, mixed_precision)
    choice, rates = variants[0], {}
    if len(variants) > 1:
      self.log(f"timing the decoders' training step: {'; '.join(v.name for v in variants)}")
      choice, rates = fastest_step.fastest(self.training_steps(variants))
      self.log(f"the decoders train with the fastest, {choice.name} (steps/s: " +
               "; ".join(f"{v.name} {rate:.2f}" for v, rate in rates.items()) + ")")
    return {"jit_compile": choice.jit_compile, "mixed_precision": choice.mixed_precision,
            "steps_per_second": {v.name: round(rate, 3) for v, rate in rates.items()}}

  def training_steps(self, variants: List[fastest_step.Variant]) -> Dict:
    """{variant: one training step of a fresh conditional decoder in that variant, on one
    batch of the first layer's h at the first epoch, returning once its loss is on the
    host}: what `fastest_step.fastest` times."""
    c = self.config
    represent = self._representation(c.layers[0], c.epochs[0])
    images = self.levels["train"][:c.batch_size]
    h = represent(self.images["train"][:c.batch_size])
    steps = {}
    for variant in variants:
      trainer = PixelCNNTrainer(
          self._pixelcnn(h.shape[1:], mixed_precision=variant.mixed_precision),
          learning_rate=c.learning_rate, jit_compile=variant.jit_compile, data_init=False)
      steps[variant] = functools.partial(_host_step, trainer, images, h)
    return steps

  # --- the jobs -------------------------------------------------------------------------

  def run_all(self, workers: int = 1):
    """Runs every job (resuming, finished ones read back): the unconditional decoder, then
    the unfinished chains (`chains`) in this process or, with ``workers`` > 1 and no GPU,
    side by side in worker processes (`tfib.runs.job_chains`; they log to stderr), the
    same thread count each however many are left. A job's decoder is a function of (seed,
    job) and its start, up to the order of floating-point sums that another ``workers``
    (another thread count) brings."""
    self.run(UNCONDITIONAL)
    chains = [chain for chain in self.chains() if not all(map(self.done, chain))]
    if workers > 1 and tf.config.list_physical_devices("GPU"):
      self.log("a GPU is visible: the decoders train one after another on it (--workers "
               "runs processes side by side on CPU cores)")
      workers = 1
    if workers == 1 or not chains:
      for chain in chains:
        for job in chain:
          self.run(job)
      return
    self.log(f"{len(chains)} chains of decoders in {min(workers, len(chains))} worker "
             "processes")
    arguments = dict(self._arguments, run_options=self.run_options)
    job_chains.run_chains(functools.partial(_run_chain, arguments), chains, workers)

  def run(self, job: str) -> Dict:
    """Runs one job (resuming a killed one; a finished one is read back)."""
    if job not in self.jobs():
      raise ValueError(f"Unknown job {job!r}; the jobs: {', '.join(self.jobs())}.")
    if self.jit_compile is None or self.config.mixed_precision is None:
      raise RuntimeError("The training step is automatic and not settled yet: open() the "
                         "experiment before running a job.")
    found = _read(os.path.join(self._directory(job), RESULT))
    if found is not None:
      return found
    if job != UNCONDITIONAL and not self.done(UNCONDITIONAL):
      raise ValueError(f"Job {job} compares its decoder with the unconditional one: run "
                       f"--job={UNCONDITIONAL} first.")
    source = self._warm_source(job)
    if source is not None and not self.done(source):
      raise ValueError(f"Job {job} starts from decoder {source}: run --job={source} first "
                       "(or use --warm_start=independent for independent jobs).")
    self.log(f"decoder {job}: training")
    return self._unconditional() if job == UNCONDITIONAL else self._conditional(job)

  def _warm_source(self, job: str) -> Optional[str]:
    """The job whose decoder ``job`` starts from (None: random weights)."""
    if job == UNCONDITIONAL:
      return None
    layer, epoch = job.split(":")
    index = self.config.epochs.index(int(epoch))
    if self.config.warm_start == "independent" or index == 0:
      return None
    return f"{layer}:{self.config.epochs[index - 1]}"

  def _pixelcnn(self, conditional_shape, job: str = UNCONDITIONAL,
                mixed_precision: Optional[bool] = None):
    """A decoder whose initial weights are a function of (seed, job), in the configuration's
    precision unless ``mixed_precision`` is given."""
    c = self.config
    if mixed_precision is None:
      mixed_precision = c.mixed_precision
    keras.utils.set_random_seed(int(np.random.default_rng(
        [c.seed, self.jobs().index(job)]).integers(2 ** 31)))
    return PixelCNN(self.image_shape, conditional_shape, num_resnet=c.num_resnet,
                    num_hierarchies=c.num_hierarchies, num_filters=c.num_filters,
                    num_logistic_mix=c.num_logistic_mix, dropout_p=c.dropout_p,
                    conditioning_filters=c.conditioning_filters, low=0, high=c.levels - 1,
                    jit_compile_sampling=self.jit_compile,
                    dtype_policy="mixed_bfloat16" if mixed_precision else None)

  def _fit(self, job, distribution, condition, pretrain=False):
    run = runs.Run(self._directory(job), PROGRAM, **self.run_options)
    run.declare("decoders", self.config.as_dict())
    run.declare("job", {"job": job, "source": self.source})
    trainer = PixelCNNTrainer(distribution, learning_rate=self.config.learning_rate,
                              jit_compile=self.jit_compile, data_init=False)

    def on_eval(step, metrics):
      tensorboard.write_scalars(run.writer(), [(f"decoder/{name}", value, step)
                                               for name, value in metrics.items()])
      if "train_bits_per_dim" in metrics:
        self.log(f"decoder {job}: step {step}  train {metrics['train_bits_per_dim']:.4f}  "
                 f"validation {metrics['validation_bits_per_dim']:.4f} bits/dim")
      else:
        self.log(f"decoder {job}: starts at validation "
                 f"{metrics['validation_bits_per_dim']:.4f} bits/dim")

    started = time.perf_counter()
    progress = fit_decoder(
        trainer, self.levels["train"], self.levels["validation"], condition,
        max_steps=(self.config.max_steps if job == UNCONDITIONAL
                   else self.config.max_steps_conditional),
        batch_size=self.config.batch_size, eval_every=self.config.eval_every,
        patience=self.config.patience, seed=self.config.seed,
        checkpoint=StepCheckpoint(run, every=2), on_eval=on_eval,
        prepare=(lambda: self._pretrain_conditioning(job, run, distribution, condition))
        if pretrain else None)
    return run, trainer, progress, time.perf_counter() - started

  def _bits_per_image(self, trainer, condition) -> np.ndarray:
    """−log2 p(x' | h) of every held-out image (Polyak weights)."""
    dims = float(np.prod(self.image_shape))
    bits = []
    for start in range(0, len(self.levels["test"]), 64):
      index = np.arange(start, min(start + 64, len(self.levels["test"])))
      h = None if condition is None else condition(index, "test")
      bits.append(trainer.evaluate_each(self.levels["test"][index], h, batch_size=64) * dims)
    return np.concatenate(bits)

  def _unconditional(self) -> Dict:
    run, trainer, progress, seconds = self._fit(UNCONDITIONAL, self._pixelcnn(None), None)
    bits = self._bits_per_image(trainer, None)
    _save_array(os.path.join(run.path, "test_bits.npy"), bits)
    self._save_weights(run.path, trainer)
    result = {"job": UNCONDITIONAL, "h_x_bits": float(bits.mean()),
              "h_x_standard_error": float(bits.std(ddof=1) / math.sqrt(len(bits))),
              "bits_per_dim": float(bits.mean() / np.prod(self.image_shape)),
              "validation_bits_per_dim": progress["best"],
              "initial_validation_bits_per_dim": progress["initial_bits"],
              "steps": progress["step"], "stop_reason": progress["stop_reason"],
              "seconds": seconds, "image_shape": list(self.image_shape)}
    atomic.write_json(os.path.join(run.path, RESULT), result)
    run.close()  # Its lock is held until the job's result, the last it writes, is there.
    return result

  def _representation(self, layer: str, epoch: int):
    """The layer of the network at ``epoch``, as a function of uint8 images."""
    network = activation_model(tfib.training.load_checkpoint(self.source, epoch), [layer])
    # Batches of several sizes (a last partial batch, single images): one relaxed trace.
    forward = tf.function(lambda x: network(x, training=False), reduce_retracing=True)

    def represent(images):
      return np.concatenate([forward(data.to_float(images[i:i + 256])).numpy()
                             for i in range(0, len(images), 256)])

    return represent

  def _condition(self, represent):
    """What a decoder of the layer ``represent`` (`_representation`) is conditioned on:
    ``condition(index, split)``, the layer's h of those images standardised per channel
    (see the module docstring). h of every image is computed once when all of it fits in
    ``CACHED_H_BYTES``, else per batch (a ResNet forward per step)."""
    h = represent(self.images["train"][:1000]).astype(np.float64)
    axes = tuple(range(h.ndim - 1))
    mean, std = h.mean(axis=axes), h.std(axis=axes)
    scale = np.where(std > 0, std, 1.0)  # A constant channel stays constant (zero).

    def standardised(images):
      return ((represent(images) - mean) / scale).astype(np.float32)

    size = 4 * h[0].size * sum(len(images) for images in self.images.values())
    if size > CACHED_H_BYTES:
      return lambda index, split: standardised(self.images[split][index])
    cached = {split: standardised(images) for split, images in self.images.items()}
    return lambda index, split: cached[split][index]

  def _conditional(self, job: str) -> Dict:
    layer, epoch = job.split(":")
    epoch = int(epoch)
    represent = self._representation(layer, epoch)
    condition = self._condition(represent)
    h_shape = tuple(represent(self.images["test"][:1]).shape[1:])
    distribution = self._pixelcnn(h_shape, job)
    source = self._warm_source(job)
    if source is not None:
      warm_start(distribution, self._weights(source))
    pretrain = (source is None and self.config.conditioning_pretraining_steps > 0
                and distribution.network.conditioning.spatial)
    run, trainer, progress, seconds = self._fit(job, distribution, condition, pretrain)
    unconditional = _read(os.path.join(self._directory(UNCONDITIONAL), RESULT))
    unconditional_bits = np.load(os.path.join(self._directory(UNCONDITIONAL),
                                              "test_bits.npy"))
    fell_back = progress["best"] >= unconditional["validation_bits_per_dim"]
    if fell_back:  # The unconditional decoder is a conditional one that ignores h.
      warm_start(trainer.ema_distribution, self._weights(UNCONDITIONAL))
      bits = unconditional_bits
    else:
      bits = self._bits_per_image(trainer, condition)
    difference = unconditional_bits - bits
    dims = float(np.prod(self.image_shape))
    result = {"job": job, "layer": layer, "epoch": epoch,
              "i_xh_bits": float(difference.mean()),
              "i_xh_standard_error": float(difference.std(ddof=1) / math.sqrt(len(bits))),
              "i_xh_bits_per_dim": float(difference.mean() / dims),
              "h_x_given_h_bits": float(bits.mean()),
              "validation_bits_per_dim": progress["best"],
              "initial_validation_bits_per_dim": progress["initial_bits"],
              "warm_start": source,
              "conditioning_pretraining_steps": (self.config.conditioning_pretraining_steps
                                                 if pretrain else 0),
              "fell_back_to_unconditional": bool(fell_back),
              "steps": progress["step"],
              "stop_reason": progress["stop_reason"], "seconds": seconds,
              "h_shape": list(h_shape)}

    def features(images):  # Flattened or pooled h (`probe_features`), chunk by chunk.
      chunks = [probe_features(represent(images[i:i + 512])) for i in range(0, len(images),
                                                                            512)]
      return np.concatenate([c for c, _ in chunks]), chunks[0][1]

    train_h, how = features(np.concatenate([self.images["train"], self.images["validation"]]))
    train_y = np.concatenate([self.labels["train"], self.labels["validation"]])
    test_h, _ = features(self.images["test"])
    result["features"] = how
    for kind, hidden in (("linear", ()), ("mlp", (self.config.probe_hidden_units,))):
      probe = probe_information(train_h, train_y, test_h, self.labels["test"],
                                hidden_units=hidden, seed=self.config.seed)
      result[f"i_hy_{kind}_bits"] = probe.i_hy
      result[f"i_hy_{kind}_standard_error"] = probe.standard_error
      result["h_y_bits"] = probe.h_y
    if "mine" in self.config.estimators:  # A second opinion on the same h.
      estimate = registry.get(self.config.mine_estimator, seed=self.config.seed).estimate(
          np.concatenate([train_h, test_h]), np.concatenate([train_y, self.labels["test"]]))
      result["mine"] = estimate.as_dict()
    shown = np.arange(min(self.config.num_sampled_images, len(self.images["test"])))
    _save_array(os.path.join(run.path, "samples.npy"),
                self._samples(trainer, condition(shown, "test")))
    self._save_weights(run.path, trainer)
    atomic.write_json(os.path.join(run.path, RESULT), result)
    run.close()
    return result

  def _pretrain_conditioning(self, job: str, run, distribution, condition):
    """Fits the conditioning network of a decoder that starts from random weights."""
    started = time.perf_counter()
    bits = pretrain_conditioning(distribution, self.levels["train"], condition,
                                 steps=self.config.conditioning_pretraining_steps,
                                 seed=self.config.seed)
    tensorboard.write_scalars(run.writer(), [
        ("decoder/conditioning_pretraining_bits_per_dim", bits, 0)])
    self.log(f"decoder {job}: conditioning network pretrained as a factorized decoder, "
             f"{bits:.4f} bits/dim in {time.perf_counter() - started:.0f} s")

  def _weights(self, job: str) -> Dict[str, np.ndarray]:
    with np.load(os.path.join(self._directory(job), "weights.npz")) as weights:
      return dict(weights)

  @staticmethod
  def _save_weights(directory: str, trainer):
    """The decoder's Polyak weights, for the decoders that start from it."""
    with atomic.replacing(os.path.join(directory, "weights.npz")) as temporary:
      with open(temporary, "wb") as stream:
        np.savez(stream, **network_weights(trainer.ema_distribution))

  def _samples(self, trainer, h) -> np.ndarray:
    """[images, samples, H, W, C] levels: samples of the decoder given each image's h."""
    count, each = len(h), self.config.samples_per_image
    drawn = trainer.ema_distribution.sample(count * each, conditional_input=h,
                                            seed=self.config.seed).numpy()
    return drawn.reshape(each, count, *self.image_shape).swapaxes(0, 1)

  # --- the summary ----------------------------------------------------------------------

  def summarise(self) -> Dict:
    """summary/ from the finished jobs (derived: rebuilt whole, then swapped in). Jobs
    that finish together take turns, each reading what is done in its turn, so the last
    summary holds every job finished before it."""
    with atomic.rebuilt_directory(os.path.join(self.logdir, "summary")) as staging:
      unconditional = _read(os.path.join(self._directory(UNCONDITIONAL), RESULT))
      results = [r for r in (_read(os.path.join(self._directory(job), RESULT))
                             for job in self.jobs()[1:]) if r is not None]
      records = [self._record(r, unconditional) for r in results] if unconditional else []
      runs.Journal(os.path.join(staging, "results.jsonl"), step_key="epoch").append(records)
      writer = tf.summary.create_file_writer(staging)
      points = []
      for record in records:
        layer, epoch = record["layer"], record["epoch"]
        points += [(f"mi/decoder/{layer}/I_XH", record["i_xt"], epoch),
                   (f"mi/decoder/{layer}/I_HY", record["i_ty"], epoch),
                   (f"mi_ci/decoder/{layer}/I_XH_low", record["extras"]["i_xt_ci"][0], epoch),
                   (f"mi_ci/decoder/{layer}/I_XH_high", record["extras"]["i_xt_ci"][1], epoch),
                   (f"probe/{layer}/I_HY_linear", record["extras"]["i_hy_linear_bits"], epoch),
                   ("mi_ceiling/decoder/I_XH", record["log2_n"], epoch),
                   ("mi_ceiling/decoder/I_HY", record["h_y"], epoch)]
        if "mine" in record["extras"]:
          mine = record["extras"]["mine"]
          label = mine["estimator"]
          points += [(f"{'mi_failed' if mine['failed'] else 'mi'}/{label}/{layer}/I_XT",
                      mine["i_xt"], epoch)]
          if mine["i_ty"] is not None:
            points.append((f"{'mi_failed' if mine['failed'] else 'mi'}/{label}/{layer}/I_TY",
                           mine["i_ty"], epoch))
      tensorboard.write_scalars(writer, points)
      pngs = {}
      if records:
        png = plotting.information_plane(
            records, title=f"decoders on {os.path.basename(self.source)} ({self.mode})",
            axes=("I(X;H)", "I(H;Y)"), ceilings=("H(X)", "H(Y)"))
        pngs["plane"] = "infoplane_decoder.png"
        atomic.write_bytes(os.path.join(staging, pngs["plane"]), png)
        tensorboard.write_png(writer, "infoplane/decoder", png,
                              step=max(r["epoch"] for r in records))
      for layer in self.config.layers:
        grid = self._grid(layer)
        if grid is not None:
          pngs[layer] = f"samples_{layer}.png"
          png = tf.io.encode_png(grid).numpy()
          atomic.write_bytes(os.path.join(staging, pngs[layer]), png)
          tensorboard.write_png(writer, f"samples/{layer}", png, step=max(self.config.epochs),
                                description="per held-out image: the image, then per epoch a "
                                            "row of samples from that epoch's decoder")
      writer.close()
      summary = {"source": self.source, "unconditional": unconditional, "decoders": results,
                 "pending": [job for job in self.jobs() if not self.done(job)], "pngs": pngs}
      atomic.write_json(os.path.join(staging, "summary.json"), summary)
    return summary

  def _record(self, result: Dict, unconditional: Dict) -> Dict:
    """A results record in the information-plane format (x: I(X;H), y: I(H;Y))."""
    se = result["i_xh_standard_error"]
    flags = {}
    if unconditional["stop_reason"].startswith("reached max_steps"):
      flags["unconditional_not_converged"] = (
          "the unconditional decoder stopped at --max_steps while still improving: a "
          "conditional decoder that trains on can model the images better whatever h is, "
          "which biases I(X;H) up; raise --max_steps")
    if result.get("fell_back_to_unconditional"):
      flags["no_better_than_unconditional"] = (
          "the conditional decoder did not beat the unconditional one on the validation "
          "split, so the unconditional decoder stands in for it and I(X;H) is 0: the "
          "decoder found nothing in h (or needs more steps)")
    if result["i_xh_bits"] < -2 * se:
      flags["i_xh_below_zero"] = (f"I(X;H) = {result['i_xh_bits']:.3g} bits is below 0 by more "
                                  "than twice its standard error: the conditional decoder "
                                  "fits worse than the unconditional one")
    return {"estimator_label": "decoder", "estimator": "decoder", "layer": result["layer"],
            "epoch": result["epoch"], "unit": "bits", "i_xt": result["i_xh_bits"],
            "i_ty": result["i_hy_mlp_bits"], "log2_n": unconditional["h_x_bits"],
            "h_y": result["h_y_bits"], "num_samples": len(self.levels["test"]),
            "flags": flags, "failed": "i_xh_below_zero" in flags,
            "extras": dict(result, i_xt_ci=[result["i_xh_bits"] - 1.645 * se,
                                            result["i_xh_bits"] + 1.645 * se],
                           h_x_bits=unconditional["h_x_bits"])}

  def _grid(self, layer: str) -> Optional[np.ndarray]:
    """Figure 1 of the paper for ``layer``: per held-out image a block, the image on top,
    then per epoch one row of samples; blocks side by side. uint8 [rows, cols, C]."""
    found = [(epoch, os.path.join(self._directory(f"{layer}:{epoch}"), "samples.npy"))
             for epoch in self.config.epochs]
    found = [(epoch, np.load(path)) for epoch, path in found if os.path.exists(path)]
    if not found:
      return None
    originals = self.levels["test"][:self.config.num_sampled_images]
    scale = 255.0 / (self.config.levels - 1)
    blocks = []
    for index, original in enumerate(originals):
      rows = [np.concatenate([original] + [np.zeros_like(original)] *
                             (self.config.samples_per_image - 1), axis=1)]
      rows += [np.concatenate(list(samples[index]), axis=1) for _, samples in found]
      block = np.concatenate(rows, axis=0)
      blocks += [block, np.full((block.shape[0], 2, block.shape[2]), self.config.levels - 1)]
    grid = np.clip(np.round(np.concatenate(blocks[:-1], axis=1) * scale), 0, 255)
    zoom = max(1, 96 // int(originals.shape[1]))  # Small images, shown large enough to see.
    return np.kron(grid, np.ones((zoom, zoom, 1))).astype(np.uint8)
