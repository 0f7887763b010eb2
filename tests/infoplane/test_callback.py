"""InformationPlane during model.fit, read back from the results file and the event files."""
import glob
import math
import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import mutual_info_score
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.custom_scalar import layout_pb2

from tfib import callbacks, data, estimators, models
from tfib.runs import ConfigMismatchError, event_files, read_records


def _scalars(logdir):
  accumulator = event_accumulator.EventAccumulator(
      logdir, size_guidance={event_accumulator.TENSORS: 0, event_accumulator.IMAGES: 0})
  accumulator.Reload()
  values = {}
  for tag in accumulator.Tags()["tensors"]:
    if not tag.startswith("mi/"):
      continue
    for event in accumulator.Tensors(tag):
      values[(tag, event.step)] = float(tf.make_ndarray(event.tensor_proto))
  return values, accumulator


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  logdir = str(tmp_path_factory.mktemp("plane"))
  x, y = data.szt()
  model = models.szt_network("tanh", seed=3, bits=4)
  model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
  layers = models.information_plane_layers(model)
  plane = callbacks.InformationPlane(
      layers, x, y, ["binning", "binning:scheme=saxe,bin_size=0.2", "exact:bits=4"],
      epochs=[0, 2, 5], logdir=logdir)
  model.fit(x, y, batch_size=512, epochs=5, verbose=0, callbacks=[plane])
  return logdir, model, layers, x, y


def test_results_file_holds_every_estimator_layer_and_epoch(trained):
  logdir, _, layers, _, _ = trained
  records = read_records(os.path.join(logdir, "results.jsonl"))
  keys = {(r["estimator_label"], r["layer"], r["epoch"]) for r in records}
  labels = {"binning_idnns_30", "binning_saxe_0.2", "exact"}
  assert keys == {(l, layer, e) for l in labels for layer in layers for e in (0, 2, 5)}
  assert len(records) == len(keys)
  record = records[0]
  assert record["unit"] == "bits" and record["num_samples"] == 4096 and record["log2_n"] == 12
  assert record["h_y"] == pytest.approx(scipy.stats.entropy([2118, 1978], base=2), abs=1e-12)


def test_final_record_matches_scikit_learn_on_the_trained_layer(trained):
  logdir, model, layers, x, y = trained
  records = read_records(os.path.join(logdir, "results.jsonl"))
  final = {r["layer"]: r for r in records if r["epoch"] == 5 and r["estimator_label"] == "exact"}
  h3 = keras.Model(model.input, model.get_layer("h3").output)
  activations = tf.function(lambda x: h3(x, training=False))(x).numpy()  # As the callback.
  rows = np.unique(activations, axis=0, return_inverse=True)[1].ravel()
  assert final["h3"]["i_xt"] == pytest.approx(mutual_info_score(rows, rows) / math.log(2),
                                              abs=1e-9)
  assert final["h3"]["i_ty"] == pytest.approx(mutual_info_score(y, rows) / math.log(2),
                                              abs=1e-9)


def test_tensorboard_scalars_equal_the_results_file(trained):
  logdir, _, _, _, _ = trained
  values, accumulator = _scalars(logdir)
  for record in read_records(os.path.join(logdir, "results.jsonl")):
    prefix = f"mi/{record['estimator_label']}/{record['layer']}"
    assert values[(f"{prefix}/I_XT", record["epoch"])] == pytest.approx(record["i_xt"], rel=1e-6)
    assert values[(f"{prefix}/I_TY", record["epoch"])] == pytest.approx(record["i_ty"], rel=1e-6)
  images = [tag for tag in accumulator.Tags()["tensors"] if tag.startswith("infoplane/")]
  assert sorted(images) == ["infoplane/binning_idnns_30", "infoplane/binning_saxe_0.2",
                            "infoplane/exact"]
  assert "custom_scalars__config__" in accumulator.Tags()["tensors"]
  (layout_event,) = accumulator.Tensors("custom_scalars__config__")
  layout = layout_pb2.Layout.FromString(tf.make_ndarray(layout_event.tensor_proto).item())
  tags = {tag for tag, _ in _scalars(logdir)[0]}
  for category in layout.category:  # A chart per layer: TensorBoard colors lines by run.
    for chart in category.chart:
      (pattern,) = chart.multiline.tag
      assert len([tag for tag in tags if re.search(pattern, tag)]) == 1, pattern


def test_information_plane_pngs_are_written(trained):
  logdir = trained[0]
  pngs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(logdir, "*.png")))
  assert pngs == ["infoplane_binning_idnns_30.png", "infoplane_binning_saxe_0.2.png",
                  "infoplane_exact.png"]
  with open(os.path.join(logdir, "infoplane_exact.png"), "rb") as stream:
    assert stream.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_second_fit_of_the_same_experiment_replaces_the_first(trained):
  logdir, model, layers, x, y = trained
  again = models.szt_network("tanh", seed=3, bits=4)
  again.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
  plane = callbacks.InformationPlane(
      layers, x, y, ["binning", "binning:scheme=saxe,bin_size=0.2", "exact:bits=4"],
      epochs=[0, 2, 5], logdir=logdir)
  before = read_records(os.path.join(logdir, "results.jsonl"))
  again.fit(x, y, batch_size=512, epochs=2, verbose=0, callbacks=[plane])
  after = read_records(os.path.join(logdir, "results.jsonl"))
  # No resume state: a new run of the same experiment, whose epochs 0 and 2 replace the old.
  assert {r["epoch"] for r in after} == {0, 2}
  assert len(after) == 2 * len(layers) * 3
  epoch_0 = [r for r in before if r["epoch"] == 0]
  assert [r for r in after if r["epoch"] == 0] == epoch_0  # Same seed, same network.
  values, _ = _scalars(logdir)
  assert {step for _, step in values} == {0, 2}


def test_another_model_in_the_same_logdir_is_refused_with_the_differences(trained):
  logdir, _, _, x, y = trained
  inputs = keras.Input((12,))
  other = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="h1")(
      keras.layers.Dense(4)(inputs)))
  other.compile("adam", "sparse_categorical_crossentropy")
  before = read_records(os.path.join(logdir, "results.jsonl"))
  plane = callbacks.InformationPlane(["h1"], x, y, ["exact:bits=4"], epochs=[0, 1],
                                     logdir=logdir)
  with pytest.raises(ConfigMismatchError, match="information_plane.layers") as error:
    other.fit(x, y, epochs=1, verbose=0, callbacks=[plane])
  assert "model.parameters" in error.value.differences
  assert "information_plane.estimators.exact.params.bits" not in error.value.differences
  assert read_records(os.path.join(logdir, "results.jsonl")) == before


KILLED_FIT = textwrap.dedent("""
    import sys
    import keras
    from tfib import callbacks, data, models, runs
    from tfib.data import epoch_order
    x, y = data.szt()
    keras.utils.set_random_seed(1)
    model = models.szt_network("tanh", seed=1)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    run = runs.Run(sys.argv[1], program="model.fit")
    checkpoint = callbacks.RunCheckpoint(run, every=3)
    plane = callbacks.InformationPlane(models.information_plane_layers(model), x, y,
                                       ["binning", "exact:bits=32"], epochs=range(0, 13, 2),
                                       run=run)
    initial = checkpoint.restore(model)
    dataset, steps = epoch_order.fit_dataset(x, y, 256, 1, 12, initial)
    # The checkpoint first: its commits must not depend on the order of the callbacks.
    model.fit(dataset, epochs=12, initial_epoch=initial, steps_per_epoch=steps, verbose=0,
              callbacks=[checkpoint, callbacks.TrainingScalars(run), plane])
    model.save_weights(sys.argv[1] + "/final.weights.h5")
""")


def test_a_users_fit_killed_and_resumed_equals_the_uninterrupted_fit(tmp_path):
  def fit(logdir, crash=None):
    env = dict(os.environ, TFIB_CRASH_AT=crash or "")
    return subprocess.run([sys.executable, "-c", KILLED_FIT, str(logdir)], env=env,
                          capture_output=True, text=True, timeout=600)

  assert fit(tmp_path / "whole").returncode == 0
  assert fit(tmp_path / "killed", crash="commit:3").returncode == -9  # After epoch 6.
  assert fit(tmp_path / "killed", crash="information_plane:20").returncode == -9
  finished = fit(tmp_path / "killed")
  assert finished.returncode == 0, finished.stderr[-3000:]
  whole, killed = (read_records(str(tmp_path / d / "results.jsonl")) for d in ("whole", "killed"))
  assert killed == whole and {r["epoch"] for r in whole} == {0, 2, 4, 6, 8, 10, 12}
  whole, killed = (event_files.read_scalars(str(tmp_path / d)) for d in ("whole", "killed"))
  assert whole.keys() == killed.keys() and any(tag.startswith("mi/") for tag in whole)
  for tag, points in whole.items():
    assert sorted(killed[tag]) == sorted(points), tag  # Every (tag, step) once, same value.
    assert len({step for step, _ in points}) == len(points), tag
  a, b = (models.szt_network("tanh") for _ in range(2))
  a.load_weights(str(tmp_path / "whole" / "final.weights.h5"))
  b.load_weights(str(tmp_path / "killed" / "final.weights.h5"))
  for u, v in zip(a.get_weights(), b.get_weights()):
    np.testing.assert_array_equal(u, v)


def test_non_finite_activations_name_layer_and_epoch(tmp_path):
  inputs = keras.Input((3,))
  hidden = keras.layers.Dense(4, name="h1")(inputs)
  broken = keras.layers.Lambda(lambda t: t / 0.0, name="broken")(hidden)
  model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(broken))
  model.compile("sgd", "sparse_categorical_crossentropy")
  x = np.eye(3, dtype=np.float32)
  plane = callbacks.InformationPlane(["h1", "broken"], x, [0, 1, 0], ["binning"], epochs=[0],
                                     logdir=str(tmp_path))
  with pytest.raises(ValueError, match="Layer 'broken' at epoch 0: .*non-finite"):
    model.fit(x, np.array([0, 1, 0]), epochs=1, verbose=0, callbacks=[plane])


def test_bad_arguments(tmp_path):
  x, y = data.szt()
  with pytest.raises(ValueError, match="label count mismatch"):
    callbacks.InformationPlane(["h1"], x, y[:10], ["binning"], [0], str(tmp_path))
  with pytest.raises(ValueError, match="Unknown estimator 'kde2'"):
    callbacks.InformationPlane(["h1"], x, y, ["kde2"], [0], str(tmp_path))
  model = models.szt_network()
  model.compile("sgd", "sparse_categorical_crossentropy")
  plane = callbacks.InformationPlane(["h9"], x, y, ["binning"], [0], str(tmp_path))
  with pytest.raises(ValueError, match="no layer named 'h9'"):
    model.fit(x, y, epochs=1, verbose=0, callbacks=[plane])
