"""Run directories: manifest, configuration check, rollback, saved networks, event files."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfib.training
from tfib.layers import Capture
from tfib.training import event_files
from tfib.training.run_directory import (ConfigMismatchError, CorruptCheckpointError,
                                         RunDirectory, RunDirectoryError, atomic_write_json)

CONFIG = {"mode": "classifier", "width": 4, "lr_decay_epochs": (100.0,)}


def _tiny_model(seed):
  inputs = keras.Input((3,))
  hidden = Capture(name="h1")(keras.layers.Dense(
      2, kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs))
  return keras.Model(inputs, keras.layers.Dense(2)(hidden))


def _run_with_epochs(path, epochs, saved):
  run = RunDirectory(path)
  manifest = run.new_manifest(CONFIG, dataset={"name": "x"})
  models = {}
  for epoch in epochs:
    entry = None
    if epoch in saved:
      models[epoch] = _tiny_model(epoch)
      entry = run.save_network(models[epoch], epoch)
    run.record_epoch(manifest, epoch, {"loss": 1.0 / (epoch + 1)}, entry)
  run.write_manifest(manifest)
  return run, manifest, models


def test_manifest_lists_saved_epochs_and_load_checkpoint_returns_them(tmp_path):
  run, _, models = _run_with_epochs(tmp_path / "run", range(4), saved={0, 2, 3})
  assert tfib.training.saved_epochs(run.path) == [0, 2, 3]
  manifest = tfib.training.read_manifest(run.path)
  assert manifest["last_epoch"] == 3 and [e["epoch"] for e in manifest["history"]] == [0, 1, 2, 3]
  assert manifest["checkpoints"][1]["metrics"] == {"loss": 1 / 3}
  assert not [name for name in os.listdir(run.checkpoints_dir) if name.startswith(".tmp")]
  x = np.ones((2, 3), np.float32)
  loaded = tfib.training.load_checkpoint(run.path, 2)
  np.testing.assert_allclose(loaded(x), models[2](x), rtol=1e-6)
  with pytest.raises(KeyError, match=r"no network saved at epoch 1; saved epochs: \[0, 2, 3\]"):
    tfib.training.load_checkpoint(run.path, 1)


def test_a_corrupt_network_is_reported_and_the_others_still_load(tmp_path):
  run, _, _ = _run_with_epochs(tmp_path / "run", range(3), saved={0, 1, 2})
  path = os.path.join(run.path, run.relative_weights_path(1))
  with open(path, "r+b") as stream:
    stream.seek(100)
    stream.write(b"garbage" * 10)
  with pytest.raises(CorruptCheckpointError, match="epoch 1 .* is corrupt.*SHA-256"):
    tfib.training.load_checkpoint(run.path, 1)
  with pytest.raises(CorruptCheckpointError, match="cannot be read"):
    tfib.training.load_checkpoint(run.path, 1, verify=False)
  assert tfib.training.load_checkpoint(run.path, 2) is not None


def test_configuration_check(tmp_path):
  run, manifest, _ = _run_with_epochs(tmp_path / "run", range(2), saved={1})
  assert run.check_config(manifest, dict(CONFIG, lr_decay_epochs=[100])) is manifest
  with pytest.raises(ConfigMismatchError, match="width: 4 in the run, 8 now.*--overwrite"):
    run.check_config(manifest, dict(CONFIG, width=8))
  forced = run.check_config(manifest, dict(CONFIG, width=8), force=True)
  assert forced["config"]["width"] == 8
  assert forced["config_changes"] == [{"after_epoch": 1, "previous": json.loads(
      json.dumps(CONFIG))}]


def test_rollback_forgets_later_epochs_in_manifest_files_and_events(tmp_path):
  run, manifest, _ = _run_with_epochs(tmp_path / "run", range(5), saved={0, 2, 4})
  writer = tf.summary.create_file_writer(os.path.join(run.logdir, "train"))
  with writer.as_default():
    for step in range(5):
      tf.summary.scalar("loss", float(step), step=step)
  writer.close()
  open(os.path.join(run.checkpoints_dir, ".tmp-1-epoch_0005.keras"), "w").close()
  run.rollback(manifest, 2)
  assert manifest["last_epoch"] == 2
  assert [e["epoch"] for e in manifest["history"]] == [0, 1, 2]
  assert sorted(os.listdir(run.checkpoints_dir)) == ["epoch_0000.keras", "epoch_0002.keras"]
  assert event_files.read_scalars(run.logdir)["loss"] == [(0, 0.0), (1, 1.0), (2, 2.0)]
  run.rollback(manifest, None)
  assert manifest["history"] == [] and manifest["checkpoints"] == []
  assert "loss" not in event_files.read_scalars(run.logdir)


def test_truncation_drops_a_record_cut_short_by_a_kill(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  with writer.as_default():
    for step in range(3):
      tf.summary.scalar("loss", float(step), step=step)
  writer.close()
  (path,) = event_files.event_file_paths(str(tmp_path))
  with open(path, "ab") as stream:
    stream.write(b"\x10\x00\x00")  # The start of a record that was never finished.
  event_files.truncate_events(str(tmp_path), max_step=10)
  assert event_files.read_scalars(str(tmp_path))["loss"] == [(0, 0.0), (1, 1.0), (2, 2.0)]
  assert event_files._read_events(path)[1] is False  # pylint: disable=protected-access


def test_directories_that_are_not_runs_are_left_alone(tmp_path):
  (tmp_path / "thesis.tex").write_text("precious")
  run = RunDirectory(tmp_path)
  assert not run.is_empty_or_own()
  with pytest.raises(RunDirectoryError, match="refusing to delete"):
    run.clear()
  atomic_write_json(run.manifest_path, {"format": "something else"})
  with pytest.raises(RunDirectoryError, match="not a tfib-train manifest"):
    run.read_manifest()
  assert (tmp_path / "thesis.tex").read_text() == "precious"
