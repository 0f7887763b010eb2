"""tfib-decoder-mi: what information does a ResNet compress? PixelCNN++ decoders on the
layers of a tfib-train run (Darlow & Storkey).

For a tfib-train run (classifier or autoencoder): one unconditional PixelCNN++ for H(X) and
one conditional decoder p(x | h) per (layer, saved epoch), trained on the training images
and evaluated on the held-out ones: I(X;H) = NLL_uncond − NLL_cond with its standard
error; I(H;Y) from a linear and an MLP probe on frozen h. Writes per-layer MI, the plane and
the paper's Figure 1 (samples given h, rows = epochs) to TensorBoard and PNGs.

    tfib-train --flagfile=configs/train_classifier_quick.cfg
    tfib-decoder-mi --run=runs/classifier_quick --layers=h1,h2,h3,h4 --epochs=all
    tensorboard --logdir runs/classifier_quick/decoder_mi

Each decoder is a job: --job=unconditional first, then --job=<layer>:<epoch>; each starts
from the layer's decoder of the previous epoch, or with --warm_start=independent from random
weights with its conditioning network pretrained on its own h (then the conditional jobs
are independent of each other: a job array). No --job runs them all, in --workers
processes side by side where chains of decoders are independent. Killed at any point,
the same command resumes; finished decoders are not trained again; the summary is rebuilt
from what is done.
"""
import os
import sys

from absl import app
from absl import flags
from absl import logging

from tfib.bin import shared_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "The tfib-train run directory to decode.")
flags.DEFINE_list("layers", ["h1", "h2", "h3", "h4"], "Layers (Capture points) to decode.")
flags.DEFINE_string("epochs", "all", "Saved epochs to decode: 'all' or a list, e.g. 0,1,3.")
flags.DEFINE_string("job", None, "Run one job: 'unconditional' or '<layer>:<epoch>'.")
flags.DEFINE_integer("workers", 1,
                     "Without --job: worker processes that train independent chains of "
                     "decoders side by side on CPU cores (a layer's epochs, or with "
                     "--warm_start=independent each decoder), each with its share of the "
                     "cores: 2 processes of 1 thread beat 1 of 2 "
                     "(bench/bench_decoder_mi.py). One process where a GPU is visible.",
                     lower_bound=1)
flags.DEFINE_enum("warm_start", "previous_epoch", ["previous_epoch", "independent"],
                  "Start each conditional decoder from the same layer's decoder of the "
                  "previous epoch, or from random weights with a pretrained conditioning "
                  "network (independent jobs, for job arrays).")
flags.DEFINE_integer("conditioning_pretraining_steps", 1000,
                     "Steps that fit the conditioning network of a decoder starting from "
                     "random weights as a factorized decoder of its h (0: none).",
                     lower_bound=0)
flags.DEFINE_list("estimators", ["decoder"], "decoder, and mine for a second opinion "
                  "(I(X; h+noise) and I(h+noise; Y) of the MINE family on the same h).")
flags.DEFINE_integer("downsample", 1, "Average-pool the decoded images by this factor.",
                     lower_bound=1)
flags.DEFINE_integer("levels", 256, "Grey levels of the decoded images.", lower_bound=2)
flags.DEFINE_integer("num_resnet", 1, "Gated blocks per level of the PixelCNN++.",
                     lower_bound=1)
flags.DEFINE_integer("num_hierarchies", 2, "Levels of the PixelCNN++.", lower_bound=1)
flags.DEFINE_integer("num_filters", 32, "Filters of the PixelCNN++.", lower_bound=1)
flags.DEFINE_integer("num_logistic_mix", 5, "Logistic mixture components.", lower_bound=1)
flags.DEFINE_float("dropout_p", 0.0, "Dropout in the gated blocks.")
flags.DEFINE_integer("conditioning_filters", 16, "Channels of the conditioning maps.",
                     lower_bound=1)
shared_flags.define_batch_size(32)
shared_flags.define_learning_rate(2e-3)
flags.DEFINE_integer("max_steps", 3000, "Steps of the unconditional decoder.", lower_bound=1)
flags.DEFINE_integer("max_steps_conditional", 1500, "Steps of each conditional decoder.",
                     lower_bound=1)
flags.DEFINE_integer("eval_every", 100, "Steps between validation evaluations.",
                     lower_bound=1)
flags.DEFINE_integer("patience", 4, "Evaluations without improvement before stopping.",
                     lower_bound=1)
flags.DEFINE_integer("num_sampled_images", 4, "Held-out images of the sample grids.",
                     lower_bound=1)
flags.DEFINE_integer("samples_per_image", 4, "Samples per image and epoch.", lower_bound=1)
flags.DEFINE_string("mine_estimator", "infonce", "The MINE-family estimator of --estimators=mine.")
shared_flags.define_seed()
flags.DEFINE_enum("jit_compile", "auto", ["auto", "true", "false"],
                  "XLA for the decoders' steps; auto: the faster of XLA and the plain graph, "
                  "timed here at the experiment's first start and recorded in its manifest "
                  "for every later job and resume.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "true", "false"],
                  "bfloat16 convolutions in the decoders (float32 weights and likelihood; "
                  "bits/dim move by < 0.001); auto: timed against float32 like "
                  "--jit_compile=auto where the hardware has bfloat16 arithmetic (GPUs of "
                  "compute capability >= 8.0, CPUs with AVX512-BF16 or AMX), else float32.")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory.")
shared_flags.define_run_flags(default_logdir=None)


def _automatic(name: str):
  """The enum flag ``name``: True, False, or None for auto (settled by the experiment)."""
  return {"auto": None, "true": True, "false": False}[FLAGS[name].value]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  shared_flags.quiet_tensorflow()
  if not FLAGS.run:
    raise app.UsageError("Give --run, the tfib-train run directory to decode.")
  try:
    epochs = () if FLAGS.epochs == "all" else tuple(int(e) for e in FLAGS.epochs.split(","))
  except ValueError:
    raise app.UsageError(f"--epochs takes 'all' or epochs, got {FLAGS.epochs!r}.") from None
  # pylint: disable=g-import-not-at-top
  from tfib import data, runs
  from tfib.experiments import decoder_mi
  from tfib.runs import job_chains
  # pylint: enable=g-import-not-at-top
  config = decoder_mi.DecoderConfig(
      layers=tuple(FLAGS.layers), epochs=epochs, downsample=FLAGS.downsample,
      levels=FLAGS.levels, num_resnet=FLAGS.num_resnet, num_hierarchies=FLAGS.num_hierarchies,
      num_filters=FLAGS.num_filters, num_logistic_mix=FLAGS.num_logistic_mix,
      dropout_p=FLAGS.dropout_p, conditioning_filters=FLAGS.conditioning_filters,
      mixed_precision=_automatic("mixed_precision"), batch_size=FLAGS.batch_size,
      learning_rate=FLAGS.learning_rate,
      max_steps=FLAGS.max_steps, max_steps_conditional=FLAGS.max_steps_conditional,
      eval_every=FLAGS.eval_every, patience=FLAGS.patience, warm_start=FLAGS.warm_start,
      conditioning_pretraining_steps=FLAGS.conditioning_pretraining_steps,
      estimators=tuple(FLAGS.estimators), mine_estimator=FLAGS.mine_estimator,
      num_sampled_images=FLAGS.num_sampled_images, samples_per_image=FLAGS.samples_per_image,
      seed=FLAGS.seed)
  try:
    program = decoder_mi.DecoderMI(FLAGS.run, config, FLAGS.logdir,
                                   run_options=shared_flags.run_options(),
                                   data_dir=FLAGS.data_dir, jit_compile=_automatic("jit_compile"),
                                   log=logging.info)
    program.open()
    if FLAGS.job:
      program.run(FLAGS.job)
    else:
      program.run_all(FLAGS.workers)
    summary = program.summarise()
  except (data.DatasetUnavailableError, runs.CorruptStateError,
          job_chains.WorkerDiedError) as error:
    sys.exit(f"tfib-decoder-mi: error: {error}")
  except (ValueError, runs.RunError) as error:
    raise app.UsageError(str(error)) from None
  if summary["unconditional"]:
    print(f"H(X) <= {summary['unconditional']['h_x_bits']:.1f} bits per image "
          f"({summary['unconditional']['bits_per_dim']:.4f} bits/dim)")
  for result in summary["decoders"]:
    print(f"{result['layer']} epoch {result['epoch']}: I(X;H) {result['i_xh_bits']:.1f} ± "
          f"{result['i_xh_standard_error']:.1f} bits ({result['i_xh_bits_per_dim']:.4f} "
          f"bits/dim), I(H;Y) {result['i_hy_mlp_bits']:.3f} (MLP probe), "
          f"{result['i_hy_linear_bits']:.3f} (linear) of H(Y) {result['h_y_bits']:.3f} bits")
  if summary["pending"]:
    print(f"not done yet: {', '.join(summary['pending'])}")
  directory = os.path.join(program.logdir, "summary")
  for name in sorted(summary["pngs"].values()):
    print(f"figure: {os.path.join(directory, name)}")
  print(f"results: {os.path.join(directory, 'results.jsonl')}")
  print(f"TensorBoard: tensorboard --logdir {program.logdir}")


def run():
  shared_flags.run_program(main, __name__, __doc__)


if __name__ == "__main__":
  run()
