"""train_resnet end to end on tiny networks and mnist5k subsets (in process)."""
import dataclasses
import glob
import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

import tfib.training
from tensorboard.plugins.hparams.metadata import SESSION_START_INFO_TAG
from tfib import data, runs
from tfib.layers import activation_model
from tfib.runs import event_files
from tfib.training.input_pipeline import IncompatibleDatasetError, load_image_data
from tfib.training.resnet_training import TrainConfig, train_resnet

TINY = TrainConfig(mode="classifier", dataset="mnist5k", epochs=3, batch_size=32, width=2,
                   depth=10, save_epochs="0,1,2,5,10", max_train_examples=128,
                   max_eval_examples=64)


def _steps(logdir, tag):
  return [step for step, _ in event_files.read_scalars(logdir).get(tag, [])]


def _hparams_sessions(logdir):
  return sum(tag == SESSION_START_INFO_TAG for tag in event_files.read_tensors(logdir))


def _manifest(run_dir):
  with open(os.path.join(run_dir, "manifest.json")) as stream:
    return json.load(stream)


def _assert_consistent(run_dir, last_epoch, saved):
  """Every epoch once in the history and in TensorBoard; the saved networks on disk."""
  history = tfib.training.training_history(run_dir)
  assert [e["epoch"] for e in history] == list(range(last_epoch + 1))
  assert tfib.training.saved_epochs(run_dir) == saved
  assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == [
      f"epoch_{epoch:04d}.keras" for epoch in saved]
  assert _steps(os.path.join(run_dir, "eval"), "loss") == list(range(last_epoch + 1))
  assert _steps(os.path.join(run_dir, "train"), "loss") == list(range(1, last_epoch + 1))
  assert _steps(os.path.join(run_dir, "train"), "learning_rate") == list(range(last_epoch + 1))
  return history


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
  run_dir = str(tmp_path_factory.mktemp("classifier") / "run")
  result = train_resnet(TINY, run_dir)
  return run_dir, result


def _copy(run_dir, tmp_path):
  copy = str(tmp_path / "copy")
  shutil.copytree(run_dir, copy)
  return copy


def test_classifier_run_keeps_the_scheduled_networks(classifier_run):
  run_dir, result = classifier_run
  assert result.resumed_from is None and result.last_epoch == 3
  assert result.saved_epochs == [0, 1, 2, 3]
  history = _assert_consistent(run_dir, 3, [0, 1, 2, 3])
  manifest = _manifest(run_dir)
  assert manifest["program"] == "tfib-train"
  assert manifest["config"]["dataset"]["image_shape"] == [28, 28, 1]
  assert manifest["config"]["model"]["capture_layers"] == ["h1", "h2", "h3", "h4"]
  assert _hparams_sessions(os.path.join(run_dir, "train")) == 1
  assert set(runs.saved_networks(run_dir)[3]["metrics"]) == {
      "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "learning_rate"}
  # The file of epoch 2 is the network of epoch 2: on the held-out images of the run
  # (tfib.training.held_out_data) it reproduces that epoch's eval loss.
  images, labels = tfib.training.held_out_data(run_dir)
  heldout = load_image_data("mnist5k", max_train_examples=128, max_eval_examples=64)
  np.testing.assert_array_equal(images * 255, heldout.eval_images)
  network = tfib.training.load_checkpoint(run_dir, 2)
  logits = network(images, training=False)
  loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
  np.testing.assert_allclose(float(np.mean(loss)), history[2]["metrics"]["eval_loss"],
                             rtol=1e-4)
  assert [h.shape[-1] for h in activation_model(network)(heldout.eval_images[:2] / 255.0)] == [
      2, 4, 8, 16]


def test_a_finished_run_is_not_trained_again(classifier_run, tmp_path):
  copy = _copy(classifier_run[0], tmp_path)
  result = train_resnet(TINY, copy)
  assert result.resumed_from == 3
  _assert_consistent(copy, 3, [0, 1, 2, 3])


def test_another_configuration_is_refused_unless_forced(classifier_run, tmp_path):
  copy = _copy(classifier_run[0], tmp_path)
  longer = dataclasses.replace(TINY, epochs=5)
  with pytest.raises(runs.ConfigMismatchError, match="train.epochs: 3 in the run, 5 now"):
    train_resnet(longer, copy)
  result = train_resnet(longer, copy, force_resume=True)
  assert result.resumed_from == 3
  _assert_consistent(copy, 5, [0, 1, 2, 3, 5])
  manifest = _manifest(copy)
  assert manifest["config"]["train"]["epochs"] == 5
  assert manifest["config_changes"][0]["previous"]["train"]["epochs"] == 3
  assert manifest["config_changes"][0]["after_step"] == 3
  assert _hparams_sessions(os.path.join(copy, "train")) == 1
  result = train_resnet(TINY, copy, overwrite=True)
  assert result.resumed_from is None
  _assert_consistent(copy, 3, [0, 1, 2, 3])


def test_a_corrupt_resume_state_is_reported_and_the_previous_one_still_works(
    classifier_run, tmp_path):
  copy = _copy(classifier_run[0], tmp_path)
  (data_file,) = glob.glob(os.path.join(copy, "resume", "ckpt-3.data-*"))
  with open(data_file, "r+b") as stream:
    stream.truncate(os.path.getsize(data_file) // 2)
  with pytest.raises(runs.CorruptStateError,
                     match="ckpt-3 cannot be read.*ckpt-2 is still there.*fall_back"):
    train_resnet(TINY, copy)
  result = train_resnet(TINY, copy, fall_back_on_corrupt=True)
  assert result.resumed_from == 2
  _assert_consistent(copy, 3, [0, 1, 2, 3])
  assert train_resnet(TINY, copy).resumed_from == 3  # The new state is readable.


def test_autoencoder_logs_reconstruction_error_and_images(tmp_path):
  config = dataclasses.replace(TINY, mode="autoencoder", epochs=1, optimizer="adam",
                               learning_rate=1e-3, augment=False)
  result = train_resnet(config, str(tmp_path / "run"))
  assert set(result.metrics) == {"train_loss", "train_reconstruction_error", "eval_loss",
                                 "eval_reconstruction_error", "learning_rate"}
  np.testing.assert_allclose(result.metrics["eval_reconstruction_error"],
                             255 * np.sqrt(result.metrics["eval_loss"]), rtol=1e-5)
  images = event_files.read_images(os.path.join(result.run_dir, "eval"))["reconstructions"]
  assert [step for step, _ in images] == [0, 1]
  assert images[0][1].shape == (2 * 28, 8 * 28, 1)
  assert _steps(os.path.join(result.run_dir, "eval"), "reconstruction_error") == [0, 1]
  network = tfib.training.load_checkpoint(result.run_dir, 1)
  assert network.output_shape == (None, 28, 28, 1)


def test_data_that_does_not_fit_the_network(classifier_run, tmp_path):
  with pytest.raises(IncompatibleDatasetError, match="'szt' has inputs of shape"):
    train_resnet(dataclasses.replace(TINY, dataset="szt"), str(tmp_path / "szt"))
  copy = _copy(classifier_run[0], tmp_path)
  with tfds.testing.mock_data(num_examples=64, policy=tfds.testing.MockPolicy.USE_CODE):
    with pytest.raises(IncompatibleDatasetError,
                       match=r"shape \(32, 32, 3\), but the network .* takes \(28, 28, 1\)"):
      train_resnet(dataclasses.replace(TINY, dataset="cifar10"), copy,
                   data_dir=str(tmp_path / "tfds"), force_resume=True)


def test_no_network_for_a_download_says_what_runs_offline(tmp_path, monkeypatch):
  def no_network(*args, **kwargs):
    raise tfds.core.download.DownloadError("Failed to resolve 'storage.googleapis.com'")

  monkeypatch.setattr(tfds, "load", no_network)
  with pytest.raises(data.DatasetUnavailableError, match="runs offline: mnist5k"):
    train_resnet(dataclasses.replace(TINY, dataset="cifar10"), str(tmp_path / "run"),
                 data_dir=str(tmp_path / "tfds"))


@pytest.mark.parametrize("change, message", [
    (dict(mode="gan"), "Unknown mode 'gan'"),
    (dict(dataset="imagenet"), "Unknown dataset 'imagenet'"),
    (dict(batch_size=1000), "exceeds the 128 training images"),
    (dict(save_epochs="log:0"), "positive integer"),
    (dict(depth=12), "Unknown ResNet depth 12"),
])
def test_bad_settings(tmp_path, change, message):
  with pytest.raises(ValueError, match=message):
    train_resnet(dataclasses.replace(TINY, **change), str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run" / "manifest.json")


def test_jit_compiled_steps_train_the_same_network(classifier_run, tmp_path):
  compiled = train_resnet(TINY, str(tmp_path / "jit"), jit_compile=True)
  plain = tfib.training.training_history(classifier_run[0])
  for epoch, entry in enumerate(tfib.training.training_history(compiled.run_dir)):
    for name, value in entry["metrics"].items():
      if name.endswith("accuracy"):  # Discrete: a borderline example may flip.
        assert abs(value - plain[epoch]["metrics"][name]) <= 2 / 64 + 1e-9, (name, epoch)
      else:
        # XLA fuses and orders sums its own way; SGD amplifies that to a few 1e-3.
        np.testing.assert_allclose(value, plain[epoch]["metrics"][name], rtol=1e-2, atol=1e-6,
                                   err_msg=f"{name} at epoch {epoch}")
