"""The XLA training step, Polyak weights, checkpoints, and what conditioning buys on mnist5k."""
import keras
import numpy as np
import pytest

from tfib.distributions import PixelCNN
from tfib.training.pixelcnn_training import PixelCNNTrainer

SMALL = dict(num_resnet=1, num_hierarchies=2, num_filters=16, num_logistic_mix=3,
             dropout_p=0.0, conditioning_filters=8)


def downsample(images, factor, levels):
  """Average-pools [N, H, W, 1] 0..255 images by ``factor``, requantized to 0..levels-1."""
  n, h, w, c = images.shape
  pooled = images.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))
  return np.round(pooled / 255.0 * (levels - 1)).astype(np.float32)


@pytest.fixture(scope="module")
def digits(mnist5k):
  """mnist5k cropped to 24x24, pooled to 8x8, 4 levels: (train [4000], held-out [500])."""
  images = downsample(mnist5k[0][:, 2:26, 2:26], 3, 4)
  return images[:4000], images[4000:4500]


def train(dist, images, h_fn, steps=150, seed=0):
  trainer = PixelCNNTrainer(dist, learning_rate=3e-3, ema_decay=0.99)
  rng = np.random.default_rng(seed)
  for _ in range(steps):
    batch = images[rng.integers(0, len(images), 32)]
    trainer.train_step(batch, h_fn(batch, rng))
  return trainer


def test_conditioning_on_the_image_helps_and_on_noise_does_not(digits):
  keras.utils.set_random_seed(0)  # The networks' initial weights; the margins are real.
  train_x, test_x = digits
  rng = np.random.default_rng(1)
  unit = lambda x: (x / 3.0 * 2.0 - 1.0).astype(np.float32)  # The image itself, as a map.
  noise = lambda x, r: r.normal(size=(len(x), 8, 8, 1)).astype(np.float32)

  uncond = train(PixelCNN((8, 8, 1), low=0, high=3, **SMALL), train_x, lambda x, r: None)
  bits_uncond = uncond.evaluate(test_x)
  itself = train(PixelCNN((8, 8, 1), (8, 8, 1), low=0, high=3, **SMALL), train_x,
                 lambda x, r: unit(x))
  bits_itself = itself.evaluate(test_x, unit(test_x))
  noisy = train(PixelCNN((8, 8, 1), (8, 8, 1), low=0, high=3, **SMALL), train_x, noise)
  bits_noise = noisy.evaluate(test_x, noise(test_x, rng))
  print(f"bits/dim: unconditional {bits_uncond:.3f}, on the image {bits_itself:.3f}, "
        f"on noise {bits_noise:.3f}")
  assert bits_uncond < 1.0  # Learned something (uniform over 4 levels is 2 bits).
  assert bits_itself < 0.35 * bits_uncond
  assert bits_noise > bits_uncond - 0.05


def test_step_checkpoint_resume_and_polyak_weights(digits, tmp_path, tiny):
  train_x, _ = digits
  config = dict(tiny, dropout_p=0.3, jit_compile_sampling=False)
  batches = [train_x[i * 16:(i + 1) * 16] for i in range(8)]
  trainer = PixelCNNTrainer(PixelCNN((8, 8, 1), low=0, high=3, **config),
                            learning_rate=1e-2, ema_decay=0.9, checkpoint_dir=str(tmp_path))
  losses = [float(trainer.train_step(b)) for b in batches[:6]]
  assert all(np.isfinite(losses)) and losses[-1] < losses[0]
  assert int(trainer.step.numpy()) == 6
  # The Polyak weights trail the raw ones and give their own bits/dim.
  raw = trainer.network.trainable_variables[0].numpy()
  ema = trainer.ema_network.trainable_variables[0].numpy()
  assert not np.allclose(raw, ema)
  assert trainer.evaluate(batches[7], use_ema=True) != trainer.evaluate(batches[7],
                                                                        use_ema=False)
  path = trainer.save()
  next_loss = float(trainer.train_step(batches[6]))

  resumed = PixelCNNTrainer(PixelCNN((8, 8, 1), low=0, high=3, **config),
                            learning_rate=1e-2, ema_decay=0.9, checkpoint_dir=str(tmp_path))
  assert int(resumed.step.numpy()) == 6
  assert int(resumed.optimizer.iterations.numpy()) == 6
  trainer.restore(path)
  for a, b in zip(trainer.ema_network.weights, resumed.ema_network.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  for a, b in zip(trainer.network.weights, resumed.network.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  assert float(resumed.train_step(batches[6])) == pytest.approx(next_loss, rel=1e-5)
  samples = resumed.ema_distribution.sample(2, seed=3)
  assert samples.shape == (2, 8, 8, 1)
  with pytest.raises(ValueError, match=r"must lie in \[0, 3\]"):
    resumed.train_step(batches[0] + 5)
  with pytest.raises(FileNotFoundError):
    resumed.restore(str(tmp_path / "missing-ckpt"))
