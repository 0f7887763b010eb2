"""tfib-sweep: the grid, the networks it refuses, the saturation verdicts, the program."""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from tfib import data
from tfib.callbacks import InformationPlane
from tfib.experiments import infoplane, sweep
from tfib.infoplane.diagnostics import BIN_COUNTS, LayerDiagnostics
from tfib.runs import event_files, read_records


def test_the_grid_is_every_combination():
  points = sweep.parse_grid("width=1,3; pooling=on,off;activation=tanh")
  assert points == [{"width": 1, "pooling": True, "activation": "tanh"},
                    {"width": 1, "pooling": False, "activation": "tanh"},
                    {"width": 3, "pooling": True, "activation": "tanh"},
                    {"width": 3, "pooling": False, "activation": "tanh"}]
  assert sweep.point_name(points[0]) == "width=1,pooling=on,activation=tanh"


@pytest.mark.parametrize("grid, message", [
    ("", "The grid is empty"),
    ("width", "Malformed grid part 'width'"),
    ("width=", "Malformed grid part"),
    ("colour=red", "Unknown grid parameter 'colour'; known: width, kernel"),
    ("width=1,x", "width: 'x' is not one of positive integers"),
    ("width=0", "width: '0' is not one of positive integers"),
    ("pooling=maybe", "pooling: 'maybe' is not one of on or off"),
    ("width=1;width=2", "given twice"),
    ("width=1,1", "repeats a value"),
])
def test_bad_grids_are_refused_by_name(grid, message):
  with pytest.raises(ValueError, match=message):
    sweep.parse_grid(grid)


def test_a_network_that_does_not_fit_is_refused_before_anything_trains(tmp_path):
  config = sweep.SweepConfig(base=infoplane.ExperimentConfig(dataset="mnist5k", epochs=1),
                             grid="depth=2,6", pooling=True, width=2)
  with pytest.raises(ValueError, match="Grid point depth=6: Pooling after convolution 5 "
                                       "would go below 1x1"):
    sweep.run(config, str(tmp_path / "sweep"), log=lambda _: 0)
  assert not os.path.exists(tmp_path / "sweep")


def _two_layer_cnn():
  """conv "spread" (weights x50: every image its own binned code), conv "collapsed"
  (zero weights: every image the same code), a softmax output."""
  inputs = keras.Input((28, 28, 1))
  spread = keras.layers.Conv2D(2, 3, padding="same", name="spread",
                               kernel_initializer=keras.initializers.RandomNormal(0, 50, seed=1)
                               )(inputs)
  collapsed = keras.layers.Conv2D(2, 3, padding="same", name="collapsed",
                                  kernel_initializer="zeros")(spread)
  outputs = keras.layers.Dense(10, activation="softmax", name="output")(
      keras.layers.Flatten()(collapsed))
  model = keras.Model(inputs, outputs)
  model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
  return model


def test_saturated_layers_are_named_so_and_collapsed_ones_are_not(tmp_path):
  images, labels = data.mnist5k()
  x, y = data.to_float(images[:1000]), labels[:1000]
  model = _two_layer_cnn()
  plane = InformationPlane(["spread", "collapsed"], x, y, ["binning:scheme=saxe,bin_size=0.67"],
                           epochs=[0, 1, 2], logdir=str(tmp_path),
                           diagnostics=LayerDiagnostics(sweep_epochs=[0, 2]), verbose=0)
  model.fit(x, y, epochs=2, batch_size=250, verbose=0, callbacks=[plane])
  records = read_records(plane.results_path)
  by_layer = {layer: [r for r in records if r["layer"] == layer] for layer in ("spread",
                                                                               "collapsed")}
  spread = sweep.summarise_layer(by_layer["spread"])
  collapsed = sweep.summarise_layer(by_layer["collapsed"])
  assert spread["saturated"] and spread["verdict"] == "saturated: this layer's I(X;T) cannot move"
  assert spread["final_i_xt"] == pytest.approx(np.log2(1000), abs=0.01)
  assert not collapsed["saturated"] and not collapsed["compression"]
  assert collapsed["final_i_xt"] == 0.0

  diagnostics = read_records(os.path.join(str(tmp_path), "diagnostics.jsonl"))
  sweeps = [d for d in diagnostics if "i_xt_by_bins" in d]
  assert {(d["layer"], d["epoch"]) for d in sweeps} == {(l, e) for l in ("spread", "collapsed")
                                                        for e in (0, 2)}
  for found in sweeps:
    values = [found["i_xt_by_bins"][str(bins)] for bins in BIN_COUNTS]
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:])), found  # Refinements.
    assert values[-1] <= np.log2(1000) + 1e-9
  # The 256-bin value against scikit-learn on independently made bins of the same layer.
  spread_layer = keras.Model(model.input, model.get_layer("spread").output)
  values = spread_layer(x).numpy().reshape(1000, -1)
  low, high = values.min(), values.max()
  codes = np.minimum(np.floor((values - low) / (high - low) * 256), 255)
  rows = np.unique(codes, axis=0, return_inverse=True)[1].ravel()
  (last,) = [d for d in sweeps if d["layer"] == "spread" and d["epoch"] == 2]
  assert last["i_xt_by_bins"]["256"] == pytest.approx(
      mutual_info_score(rows, rows) / np.log(2), abs=1e-9)


def _sweep(tmp_path, *flags):
  return subprocess.run(
      [sys.executable, "-m", "tfib.bin.sweep", "--grid=width=1,2", "--depth=1", "--epochs=2",
       "--every=1", "--max_examples=600", f"--logdir={tmp_path / 'sweep'}", *flags],
      capture_output=True, text=True, timeout=600)


def test_the_program_runs_a_job_then_the_rest_and_summarises(tmp_path):
  first = _sweep(tmp_path, "--job=0")
  assert first.returncode == 0, first.stderr[-3000:]
  assert "not finished yet: width=2" in first.stdout
  finished = _sweep(tmp_path)
  assert finished.returncode == 0, finished.stderr[-3000:]
  assert "saturated" in finished.stdout or "no compression observed" in finished.stdout
  summary_dir = tmp_path / "sweep" / "summary"
  summary = json.loads((summary_dir / "summary.json").read_text())
  assert sorted(summary["points"]) == ["width=1", "width=2"] and not summary["pending"]
  assert set(summary["points"]["width=1"]["layers"]) == {"h1", "output"}
  assert (summary_dir / "sweep_width.png").read_bytes()[:4] == b"\x89PNG"
  assert "sweep/width" in event_files.read_images(str(summary_dir))
  for point in ("width=1", "width=2"):  # The hparams dashboard: a session per point.
    tensors = event_files.read_tensors(str(summary_dir / point))
    assert "_hparams_/session_start_info" in tensors
    assert "sweep/h1/saturated" in event_files.read_scalars(str(summary_dir / point))
  bad = _sweep(tmp_path, "--grid=width=1;colour=red")
  assert bad.returncode != 0 and "Unknown grid parameter 'colour'" in bad.stderr
