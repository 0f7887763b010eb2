"""PixelCNNTrainer's resume state: named variables, and a fit resumed equals one run through."""
import numpy as np
import tensorflow as tf

from tfib.distributions import PixelCNN
from tfib.training.pixelcnn_training import PixelCNNTrainer

CONFIG = dict(num_resnet=1, num_hierarchies=2, num_filters=8, num_logistic_mix=2,
              dropout_p=0.5, low=0, high=3)


def _trainer(checkpoint_dir=None):
  tf.keras.utils.set_random_seed(7)
  return PixelCNNTrainer(PixelCNN((8, 8, 1), (4, 4, 2), **CONFIG), learning_rate=1e-2,
                         checkpoint_dir=checkpoint_dir, jit_compile=False)


def _data():
  rng = np.random.default_rng(0)
  return (rng.integers(0, 4, (40, 8, 8, 1)).astype(np.float32),
          rng.normal(size=(40, 4, 4, 2)).astype(np.float32))


def test_a_checkpoint_names_every_weight_by_its_place_in_the_network(tmp_path):
  trainer = _trainer(str(tmp_path))
  images, h = _data()
  trainer.fit(images, h, steps=1, batch_size=8)
  # TensorFlow writes the "." of a name as "..".
  names = {name for name, _ in tf.train.list_variables(trainer.save())}
  assert "network/init_u..kernel/.ATTRIBUTES/VARIABLE_VALUE" in names
  assert "ema_network/output..bias/.ATTRIBUTES/VARIABLE_VALUE" in names
  assert "optimizer/init_u_kernel_momentum/.ATTRIBUTES/VARIABLE_VALUE" in names
  assert any(name.startswith("network/dn_down_0_dropout_seed") for name in names)
  assert not any("v0000" in name or "pixel_cnn_network" in name for name in names)


def test_a_fit_stopped_and_resumed_takes_the_steps_of_an_uninterrupted_fit(tmp_path):
  images, h = _data()
  whole = _trainer()
  whole_losses = whole.fit(images, h, steps=12, batch_size=8, seed=3)
  first = _trainer(str(tmp_path))
  losses = first.fit(images, h, steps=7, batch_size=8, seed=3, save_every=5)
  del first  # The process ends after step 7; its last state is that of step 5.
  resumed = _trainer(str(tmp_path))
  assert int(resumed.step.numpy()) == 5
  losses = losses[:5] + resumed.fit(images, h, steps=7, batch_size=8, seed=3)
  np.testing.assert_allclose(losses, whole_losses, rtol=1e-6)
  for a, b in zip(resumed.network.weights + resumed.ema_network.weights,
                  whole.network.weights + whole.ema_network.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
