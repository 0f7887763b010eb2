"""PixelCNNTrainer under MirroredStrategy over two logical CPU devices.

Two replicas take the step one device takes on the same global batch (without dropout),
up to the order of floating-point sums; with dropout they draw different masks, replica 0
the masks of one device. TensorFlow's devices can be split only before it initialises them,
so everything runs in one fresh Python process.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    from tfib.training import strategies
    strategies.split_cpu(2)
    import keras
    import numpy as np
    import tensorflow as tf
    from tfib.distributions import PixelCNN
    from tfib.training.pixelcnn_training import PixelCNNTrainer

    config = dict(num_resnet=1, num_hierarchies=2, num_filters=8, num_logistic_mix=2,
                  low=0, high=3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, (8, 8, 8, 1)).astype(np.float32)
    h = rng.normal(size=(8, 4, 4, 2)).astype(np.float32)
    # One MirroredStrategy per process: two over the same devices reuse collective keys
    # (tensorflow/tensorflow#62790).
    mirrored = strategies.make_strategy("mirrored")
    out = {"replicas": mirrored.num_replicas_in_sync}

    def errors(*makers):
      messages = []
      for make in makers:
        try:
          make()
          messages.append(None)
        except ValueError as error:
          messages.append(str(error))
      return messages

    for name, strategy in (("default", tf.distribute.get_strategy()), ("mirrored", mirrored)):
      keras.utils.set_random_seed(1)
      with strategy.scope():
        dist = PixelCNN((8, 8, 1), (4, 4, 2), dropout_p=0.0, use_weight_norm=True,
                       **config)  # Weight norm: the first step also runs the data init.
      trainer = PixelCNNTrainer(dist, learning_rate=1e-2, ema_decay=0.9, strategy=strategy)
      losses = [float(trainer.train_step(images, h)) for _ in range(2)]
      losses += trainer.fit(images, h, steps=1, batch_size=8)
      out[name] = {"losses": losses, "distributed": trainer.distributed,
                   "step": int(trainer.step.numpy()),
                   "weights": [w.numpy().tolist() for w in trainer.network.weights],
                   "ema": [w.numpy().tolist() for w in trainer.ema_network.weights],
                   "evaluate": trainer.evaluate(images, h)}
    out["errors"] = errors(
        lambda: trainer.train_step(images[:7], h[:7]),
        lambda: PixelCNNTrainer(PixelCNN((8, 8, 1), (4, 4, 2), **config), strategy=mirrored),
        lambda: PixelCNNTrainer(dist, strategy=mirrored, optimizer=keras.optimizers.Adam()))

    # Dropout: the masks of each replica, for the same seed state and the same input.
    with mirrored.scope():
      dist = PixelCNN((8, 8, 1), dropout_p=0.5, **config)
    block = dist.network._blocks[0]
    state = block.seed_generator.state.numpy()
    ones = tf.ones([4, 64])
    masks = mirrored.experimental_local_results(
        tf.function(lambda: mirrored.run(lambda: block._dropout(ones)))())
    block.seed_generator.state.assign(state)
    single = tf.function(lambda: block._dropout(ones))()
    out["masks"] = {"replicas_equal": bool(np.array_equal(masks[0], masks[1])),
                    "replica0_is_single": bool(np.array_equal(masks[0], single))}

    # Checkpoints written under the strategy resume under it.
    trainer = PixelCNNTrainer(dist, learning_rate=1e-2, strategy=mirrored,
                              checkpoint_dir=sys.argv[1], jit_compile=False)
    trainer.fit(images, steps=3, batch_size=4)
    trainer.save()
    next_loss = float(trainer.train_step(images[:4]))
    with mirrored.scope():
      resumed = PixelCNNTrainer(PixelCNN((8, 8, 1), dropout_p=0.5, **config),
                                learning_rate=1e-2, checkpoint_dir=sys.argv[1],
                                jit_compile=False)
    out["resume"] = {"step": int(resumed.step.numpy()), "next_loss": next_loss,
                     "resumed_loss": float(resumed.train_step(images[:4]))}
    print("RESULT " + json.dumps(out))
""")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path_factory.mktemp("ckpt"))],
                          capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  (line,) = [l for l in result.stdout.splitlines() if l.startswith("RESULT ")]
  return json.loads(line[len("RESULT "):])


def test_two_replicas_take_the_step_of_one_device(runs):
  one, two = runs["default"], runs["mirrored"]
  assert runs["replicas"] == 2
  assert not one["distributed"] and two["distributed"]
  assert one["step"] == two["step"] == 3
  np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-4)
  for key in ("weights", "ema"):
    assert len(one[key]) == len(two[key])
    # Adam divides by sqrt(v): a gradient near 0, summed in another order, can move its
    # weight by ~1e-5 of the largest one (a wrong step would move it by ~lr = 1e-2).
    for a, b in zip(one[key], two[key]):
      np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * np.max(np.abs(a)), err_msg=key)
  assert two["evaluate"] == pytest.approx(one["evaluate"], rel=1e-4)


def test_clear_errors(runs):
  split, outside, optimizer = runs["errors"]
  assert "global batch of 7 images does not split over the 2 replicas" in split
  assert "The PixelCNN was created under another tf.distribute strategy" in outside
  assert "strategy.scope()" in outside
  assert "The optimizer was created under another tf.distribute strategy" in optimizer


def test_replicas_draw_their_own_dropout_masks(runs):
  assert not runs["masks"]["replicas_equal"]
  assert runs["masks"]["replica0_is_single"]


def test_checkpoint_resumes_under_the_strategy(runs):
  resume = runs["resume"]
  assert resume["step"] == 3
  assert resume["resumed_loss"] == pytest.approx(resume["next_loss"], rel=1e-6)
