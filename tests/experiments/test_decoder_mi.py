"""tfib-decoder-mi against known answers, resuming, and the inputs it refuses.

Known answers come from a hand-made tfib-train run whose "network" has three Capture
points: ``image`` (h = the decoded image itself: the decoders model X' = x pooled 4x4 to
7x7 at 4 grey levels, and ``image`` computes exactly X', so I(X';H) = H(X')), ``coarse``
(X' thresholded at half its range, a function of ``image``: no more information than it, by
data processing) and ``noise`` (Gaussian noise drawn afresh for every image, independent of
x: I(X';H) = 0). Tiny enough for a CPU test.
"""
import dataclasses
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib import runs
from tfib.runs import event_files
from tfib.experiments import decoder_mi
from tfib.layers import Capture
from tfib.training import fastest_step, precision
from tfib.training.train_config import TrainConfig

TRAIN = TrainConfig(max_train_examples=900, max_eval_examples=300, epochs=1)
DECODERS = decoder_mi.DecoderConfig(
    layers=("image", "coarse", "noise"), downsample=4, levels=4, num_hierarchies=1,
    num_filters=16, num_logistic_mix=2, conditioning_filters=8, batch_size=32,
    learning_rate=5e-3, max_steps=3000, max_steps_conditional=1500, eval_every=50,
    patience=4, num_sampled_images=2, samples_per_image=2)


@keras.saving.register_keras_serializable(package="tfib_tests")
class DecodedView(keras.layers.Layer):
  """X' of decoder_mi.decoder_view(x, downsample=4, levels=4), computed by the network."""

  def call(self, inputs):
    return tf.round(tf.nn.avg_pool2d(inputs * 255.0, 4, 4, "VALID") / 255.0 * 3.0)

  def compute_output_shape(self, input_shape):
    return (input_shape[0], input_shape[1] // 4, input_shape[2] // 4, input_shape[3])


@keras.saving.register_keras_serializable(package="tfib_tests")
class Threshold(keras.layers.Layer):
  """1 where the input is at least 2, else 0: a lossy function of it."""

  def call(self, inputs):
    return tf.cast(inputs >= 2.0, inputs.dtype)


@keras.saving.register_keras_serializable(package="tfib_tests")
class FreshNoise(keras.layers.Layer):
  """Noise of the input's shape, independent of its values, new at every call."""

  def call(self, inputs):
    return tf.random.normal(tf.shape(inputs))


def _known_answer_run(path, epochs=(0,)):
  """The run at ``path``, the same network saved at each of ``epochs``."""
  inputs = keras.Input((28, 28, 1))
  image = Capture(name="image")(DecodedView(name="view")(inputs))
  coarse = Capture(name="coarse")(Threshold(name="threshold")(image))
  noise = Capture(name="noise")(FreshNoise(name="draw")(coarse))
  model = keras.Model(inputs, [image, coarse, noise])
  run = runs.Run(path, "tfib-train")
  run.declare("train", TRAIN.as_dict())
  run.declare("model", {"capture_layers": ["image", "coarse", "noise"]})
  run.start()
  for epoch in epochs:
    run.save_network(model, epoch, f"checkpoints/epoch_{epoch:04d}.keras")
  return path


@pytest.fixture(scope="module")
def known(tmp_path_factory):
  source = _known_answer_run(str(tmp_path_factory.mktemp("known") / "run"))
  program = decoder_mi.DecoderMI(source, DECODERS, log=lambda _: 0)
  program.open()
  for job in program.jobs():
    program.run(job)
  return program, program.summarise()


def test_conditioning_on_the_image_itself_gives_h_x(known):
  _, summary = known
  h_x = summary["unconditional"]["h_x_bits"]
  (image,) = [r for r in summary["decoders"] if r["layer"] == "image"]
  assert image["i_xh_bits"] == pytest.approx(h_x, rel=0.05)


def test_independent_noise_gives_about_nothing(known):
  _, summary = known
  (noise,) = [r for r in summary["decoders"] if r["layer"] == "noise"]
  assert abs(noise["i_xh_bits"]) <= 2 * noise["i_xh_standard_error"]
  assert noise["i_hy_mlp_bits"] <= 2 * noise["i_hy_mlp_standard_error"]


def test_no_decoder_is_reported_worse_than_the_unconditional_one(known):
  program, summary = known
  unconditional = summary["unconditional"]["validation_bits_per_dim"]
  records = runs.read_records(os.path.join(program.logdir, "summary", "results.jsonl"))
  assert len(records) == len(program.jobs()) - 1
  for record in records:
    result = record["extras"]
    if result["fell_back_to_unconditional"]:  # The unconditional decoder stands in: I = 0.
      assert result["validation_bits_per_dim"] >= unconditional
      assert result["i_xh_bits"] == 0 and result["i_xh_standard_error"] == 0
      assert "no_better_than_unconditional" in record["flags"] and not record["failed"]
    else:
      assert result["validation_bits_per_dim"] < unconditional
      assert "no_better_than_unconditional" not in record["flags"]


def test_an_untrained_conditional_decoder_falls_back_to_the_unconditional_one(known, tmp_path):
  program, _ = known
  untrained = dataclasses.replace(DECODERS, layers=("image",), max_steps=100,
                                  max_steps_conditional=0, conditioning_pretraining_steps=0)
  program = decoder_mi.DecoderMI(program.source, untrained, str(tmp_path), log=lambda _: 0)
  program.open()
  unconditional = program.run("unconditional")
  result = program.run(program.jobs()[1])  # Random weights, not one step: worse than U.
  assert result["fell_back_to_unconditional"] and result["steps"] == 0
  assert result["validation_bits_per_dim"] > unconditional["validation_bits_per_dim"]
  assert result["i_xh_bits"] == 0 and result["h_x_given_h_bits"] == pytest.approx(
      unconditional["h_x_bits"], rel=1e-6)
  program.summarise()
  (record,) = runs.read_records(os.path.join(str(tmp_path), "summary", "results.jsonl"))
  assert "no_better_than_unconditional" in record["flags"] and not record["failed"]


def test_a_function_of_a_layer_carries_no_more_than_the_layer(known):
  _, summary = known
  found = {r["layer"]: r for r in summary["decoders"]}
  error = found["image"]["i_xh_standard_error"] + found["coarse"]["i_xh_standard_error"]
  assert found["coarse"]["i_xh_bits"] <= found["image"]["i_xh_bits"] + 2 * error
  assert found["coarse"]["i_xh_bits"] > 0
  for result in found.values():  # The probes' bound never exceeds H(Y).
    assert result["i_hy_linear_bits"] <= result["h_y_bits"]
    assert result["i_hy_mlp_bits"] <= result["h_y_bits"]


def test_the_summary_writes_the_plane_and_figure_one(known):
  program, summary = known
  directory = os.path.join(program.logdir, "summary")
  records = runs.read_records(os.path.join(directory, "results.jsonl"))
  assert {(r["layer"], r["epoch"]) for r in records} == {("image", 0), ("coarse", 0),
                                                         ("noise", 0)}
  scalars = event_files.read_scalars(directory)
  assert dict(scalars["mi/decoder/image/I_XH"])[0] == pytest.approx(
      [r for r in summary["decoders"] if r["layer"] == "image"][0]["i_xh_bits"], rel=1e-6)
  assert "mi/decoder/image/I_HY" in scalars and "mi_ceiling/decoder/I_XH" in scalars
  images = event_files.read_images(directory)
  assert {"infoplane/decoder", "samples/image", "samples/noise"} <= set(images)
  # 2 held-out images side by side, each a block of 2 rows (the image, then epoch 0's
  # samples) of 2 cells of 7x7, 2 pixels apart, zoomed 96 // 7 = 13 times.
  grid = images["samples/image"][0][1]
  assert grid.shape[:2] == (2 * 7 * 13, (2 * 2 * 7 + 2) * 13)
  curves = event_files.read_scalars(os.path.join(program.logdir, "image_epoch0000"))
  assert "decoder/validation_bits_per_dim" in curves


def test_a_warm_start_on_an_unchanged_layer_starts_where_its_source_ended(tmp_path):
  # Epochs 0 and 1 hold the same network, so epoch 1's h is epoch 0's and the decoder that
  # starts from epoch 0's weights must start at epoch 0's validation bits/dim.
  source = _known_answer_run(str(tmp_path / "run"), epochs=(0, 1))
  config = dataclasses.replace(DECODERS, layers=("image",), max_steps=200,
                               max_steps_conditional=100, conditioning_pretraining_steps=200)
  twice = decoder_mi.DecoderMI(source, config, str(tmp_path / "decoders"), log=lambda _: 0)
  twice.open()
  twice.run("unconditional")
  first, second = twice.run("image:0"), twice.run("image:1")
  assert second["warm_start"] == "image:0" and not first["fell_back_to_unconditional"]
  assert second["initial_validation_bits_per_dim"] == pytest.approx(
      first["validation_bits_per_dim"], rel=1e-5)
  # The curve in TensorBoard starts there, at step 0, once.
  curve = event_files.read_scalars(os.path.join(twice.logdir, "image_epoch0001"))
  starts = [bits for step, bits in curve["decoder/validation_bits_per_dim"] if step == 0]
  assert starts == [pytest.approx(second["initial_validation_bits_per_dim"], rel=1e-6)]


def test_what_the_run_does_not_have_is_refused_with_what_it_has(known):
  program, _ = known
  with pytest.raises(ValueError, match="has no layer h7; its layers: image, coarse, noise"):
    decoder_mi.DecoderMI(program.source, decoder_mi.DecoderConfig(layers=("h7",)))
  with pytest.raises(ValueError, match=r"no network saved at epoch 5; saved epochs: \[0\]"):
    decoder_mi.DecoderMI(program.source, decoder_mi.DecoderConfig(layers=("image",),
                                                                  epochs=(5,)))
  with pytest.raises(ValueError, match="does not fit the images"):
    decoder_mi.DecoderMI(program.source, dataclasses.replace(DECODERS, num_hierarchies=3))
  with pytest.raises(ValueError, match="Unknown job 'image:3'"):
    program.run("image:3")


def test_h_held_in_memory_is_the_h_computed_per_batch(known, monkeypatch):
  program, _ = known
  represent = program._representation("image", 0)  # pylint: disable=protected-access
  held = program._condition(represent)  # pylint: disable=protected-access
  monkeypatch.setattr(decoder_mi, "CACHED_H_BYTES", 0)  # Nothing fits: per batch.
  per_batch = program._condition(represent)  # pylint: disable=protected-access
  for split in ("train", "validation", "test"):
    index = np.array([5, 0, 17, 3])
    np.testing.assert_allclose(held(index, split), per_batch(index, split), rtol=1e-5,
                               atol=1e-6)
  # Standardised per channel on the training images.
  h = held(np.arange(len(program.images["train"])), "train")
  assert abs(h[:1000].mean()) < 1e-3


def test_mixed_precision_decoders_are_their_own_experiment(known):
  program, _ = known
  mixed = decoder_mi.DecoderMI(program.source,
                               dataclasses.replace(DECODERS, mixed_precision=True),
                               program.logdir, log=lambda _: 0)
  assert mixed._pixelcnn(None).network.dtype_policy.name == "mixed_bfloat16"  # pylint: disable=protected-access
  assert program._pixelcnn(None).network.dtype_policy.name == "float32"  # pylint: disable=protected-access
  # Decoders of another precision never mix into a float32 experiment's directory.
  with pytest.raises(runs.RunError, match="mixed_precision"):
    mixed.open()


def test_an_automatic_step_is_timed_once_and_recorded_for_every_later_start(
    known, tmp_path, monkeypatch):
  program, _ = known
  monkeypatch.setattr(precision, "bfloat16_hardware", lambda: True)
  automatic = dataclasses.replace(DECODERS, mixed_precision=None)
  first = decoder_mi.DecoderMI(program.source, automatic, str(tmp_path), jit_compile=None,
                               log=lambda _: 0)
  with pytest.raises(RuntimeError, match="open"):
    first.run(decoder_mi.UNCONDITIONAL)
  first.open()  # Times the four variants of a real step here.
  record = runs.read_manifest(str(tmp_path))["config"]["step"]
  assert set(record["steps_per_second"]) == {
      "plain graph, float32", "XLA, float32", "plain graph, mixed bfloat16",
      "XLA, mixed bfloat16"}
  assert all(rate > 0 for rate in record["steps_per_second"].values())
  settled = (record["jit_compile"], record["mixed_precision"])
  assert (first.jit_compile, first.config.mixed_precision) == settled
  # What the jobs declare and the workers are built from is the choice, not "auto".
  assert runs.read_manifest(str(tmp_path))["config"]["decoders"]["mixed_precision"] is \
      settled[1]
  assert first._arguments["config"] == first.config  # pylint: disable=protected-access
  assert first._arguments["jit_compile"] is settled[0]  # pylint: disable=protected-access

  def never(*_):
    raise AssertionError("a resumed experiment timed its step again")

  monkeypatch.setattr(fastest_step, "fastest", never)
  again = decoder_mi.DecoderMI(program.source, automatic, str(tmp_path), jit_compile=None,
                               log=lambda _: 0)
  again.open()
  assert (again.jit_compile, again.config.mixed_precision) == settled
  # A given jit_compile holds for its process, and says that it differs from the record.
  said = []
  other = decoder_mi.DecoderMI(program.source, automatic, str(tmp_path),
                               jit_compile=not settled[0], log=said.append)
  other.open()
  assert other.jit_compile is not settled[0] and other.config.mixed_precision is settled[1]
  assert any("recorded" in line for line in said)
  # Given choices are recorded untimed.
  given = tmp_path / "given"
  decoder_mi.DecoderMI(program.source, DECODERS, str(given), log=lambda _: 0).open()
  manifest = runs.read_manifest(str(given))
  assert manifest["config"]["step"] == {
      "jit_compile": False, "mixed_precision": False, "steps_per_second": {}}
  # An experiment made before the record keeps its precision rather than timing another.
  del manifest["config"]["step"]
  with open(given / "manifest.json", "w") as stream:
    json.dump(manifest, stream)
  older = decoder_mi.DecoderMI(program.source, automatic, str(given), jit_compile=False,
                               log=lambda _: 0)
  older.open()
  assert older.config.mixed_precision is False


def test_of_two_first_starts_at_once_the_one_that_creates_the_experiment_sets_the_step(
    known, tmp_path, monkeypatch):
  """Jobs of an array started together: each finds no experiment and times the step, and
  the timings may choose differently; the one that creates the experiment records its
  choice and the other must train with it (decoders of two precisions never share an
  experiment), not refuse to start and not write its own over it."""
  program, _ = known
  automatic = dataclasses.replace(DECODERS, mixed_precision=None)
  said = []
  first = decoder_mi.DecoderMI(program.source, automatic, str(tmp_path), jit_compile=None,
                               log=lambda _: 0)
  second = decoder_mi.DecoderMI(program.source, automatic, str(tmp_path), jit_compile=None,
                                log=said.append)
  timed = []

  def time_step(self, jit_compile, mixed_precision):
    timed.append(self)
    if self is second:  # The first start creates the experiment while this one times.
      first.open()
    return {"jit_compile": self is first, "mixed_precision": self is second,
            "steps_per_second": {"plain graph, float32": 1.0}}

  monkeypatch.setattr(decoder_mi.DecoderMI, "_time_step", time_step)
  second.open()
  assert timed == [second, first]  # Once each: the second then reads the record.
  manifest = runs.read_manifest(str(tmp_path))["config"]
  assert manifest["step"]["jit_compile"] is True
  assert manifest["step"]["mixed_precision"] is manifest["decoders"]["mixed_precision"] is False
  assert (second.jit_compile, second.config.mixed_precision) == (True, False)
  assert second._arguments["config"].mixed_precision is False  # pylint: disable=protected-access
  assert any("reading its record" in line for line in said)


QUICK_TRAIN = ["--width=2", "--depth=10", "--batch_size=32", "--max_train_examples=600",
               "--max_eval_examples=200", "--epochs=1", "--save_epochs=0,1", "--noaugment"]
QUICK_DECODERS = ["--layers=h3,h4", "--downsample=4", "--levels=4", "--num_hierarchies=1",
                  "--num_filters=8", "--num_logistic_mix=2", "--conditioning_filters=4",
                  "--max_steps=200", "--max_steps_conditional=100", "--eval_every=25",
                  "--conditioning_pretraining_steps=100", "--num_sampled_images=1",
                  "--samples_per_image=1",
                  # Given, not timed: runs compared with each other train the same way.
                  "--jit_compile=false", "--mixed_precision=false"]


def _decoder_mi(source, logdir, crash="", *flags):
  return subprocess.run([sys.executable, "-m", "tfib.bin.decoder_mi", f"--run={source}",
                         f"--logdir={logdir}", *QUICK_DECODERS, *flags],
                        env=dict(os.environ, TFIB_CRASH_AT=crash), capture_output=True,
                        text=True, timeout=900)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
  """A quick tfib-train run and its decoders run uninterrupted in one process."""
  root = tmp_path_factory.mktemp("classifier")
  source = str(root / "classifier")
  trained = subprocess.run([sys.executable, "-m", "tfib.bin.train", *QUICK_TRAIN,
                            f"--logdir={source}"], capture_output=True, text=True, timeout=600)
  assert trained.returncode == 0, trained.stderr[-3000:]
  whole = _decoder_mi(source, root / "whole")
  assert whole.returncode == 0, whole.stderr[-3000:]
  return source, runs.read_records(str(root / "whole" / "summary" / "results.jsonl"))


def _without_seconds(records):
  return [{k: v for k, v in r.items() if k != "extras"} | {
      "extras": {k: v for k, v in r["extras"].items() if k != "seconds"}} for r in records]


def _finished_jobs(logdir):
  return {os.path.dirname(p): os.path.getmtime(p)
          for p in glob.glob(str(logdir / "*" / "result.json"))}


def _assert_not_trained_again(done_before, finished):
  for directory, mtime in done_before.items():
    assert os.path.getmtime(os.path.join(directory, "result.json")) == mtime
    layer, _, epoch = os.path.basename(directory).partition("_epoch")
    job = f"{layer}:{int(epoch)}" if epoch else layer
    assert f"decoder {job}: training" not in finished.stderr


def test_a_killed_run_resumes_to_the_uninterrupted_aggregate(classifier, tmp_path):
  source, whole = classifier
  killed = tmp_path / "killed"
  first = _decoder_mi(source, killed, "commit:7")  # In the second conditional decoder.
  assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
  done_before = _finished_jobs(killed)
  assert done_before
  finished = _decoder_mi(source, killed)
  assert finished.returncode == 0, finished.stderr[-3000:]
  _assert_not_trained_again(done_before, finished)
  ours = runs.read_records(str(killed / "summary" / "results.jsonl"))
  assert _without_seconds(ours) == _without_seconds(whole)


def test_workers_side_by_side_resume_to_their_uninterrupted_aggregate(classifier, tmp_path):
  source, one_process = classifier
  whole = _decoder_mi(source, tmp_path / "whole", "", "--workers=2")
  assert whole.returncode == 0, whole.stderr[-3000:]
  assert "2 chains of decoders in 2 worker processes" in whole.stderr
  logdir = tmp_path / "killed"
  with open(tmp_path / "first.log", "w") as log:
    first = subprocess.Popen([sys.executable, "-m", "tfib.bin.decoder_mi", f"--run={source}",
                              f"--logdir={logdir}", *QUICK_DECODERS, "--workers=2"],
                             stdout=log, stderr=log)
    deadline = time.monotonic() + 600
    while (first.poll() is None and not glob.glob(str(logdir / "h*_epoch0001"))
           and time.monotonic() < deadline):
      time.sleep(0.1)
    first.kill()  # kill -9 of the program while a chain trains its second decoder.
    assert first.wait(timeout=60) == -signal.SIGKILL
  time.sleep(2)  # Its workers end themselves within half a second.
  done_before = _finished_jobs(logdir)
  assert 2 <= len(done_before) < 5  # The unconditional decoder and a chain's first.
  finished = _decoder_mi(source, logdir, "", "--workers=2")
  assert finished.returncode == 0, finished.stderr[-3000:]
  _assert_not_trained_again(done_before, finished)
  ours, theirs = (_without_seconds(runs.read_records(str(d / "summary" / "results.jsonl")))
                  for d in (logdir, tmp_path / "whole"))
  assert ours == theirs
  one_process = _without_seconds(one_process)  # 2 threads: other orders of sums.
  assert [(r["layer"], r["epoch"]) for r in ours] == [(r["layer"], r["epoch"])
                                                      for r in one_process]
  for mine, single in zip(ours, one_process):
    assert mine["extras"]["steps"] == single["extras"]["steps"]
    np.testing.assert_allclose(mine["i_xt"], single["i_xt"], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(mine["i_ty"], single["i_ty"], rtol=1e-4, atol=1e-3)


def test_jobs_of_an_array_that_run_at_once_give_the_jobs_of_one_process(classifier, tmp_path):
  """A job array: the unconditional job, then two decoders at once, each summarising what
  is done when it ends; the last summary holds both, as one process computes them."""
  source, one_process = classifier
  logdir = tmp_path / "array"
  first = _decoder_mi(source, logdir, "", "--job=unconditional")
  assert first.returncode == 0, first.stderr[-3000:]
  command = [sys.executable, "-m", "tfib.bin.decoder_mi", f"--run={source}",
             f"--logdir={logdir}", *QUICK_DECODERS]
  jobs = [subprocess.Popen([*command, f"--job={job}"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True) for job in ("h3:0", "h4:0")]
  for job in jobs:
    output, _ = job.communicate(timeout=900)
    assert job.returncode == 0, output[-3000:]
  ours = _without_seconds(runs.read_records(str(logdir / "summary" / "results.jsonl")))
  theirs = [r for r in _without_seconds(one_process) if r["epoch"] == 0]
  assert [(r["layer"], r["epoch"]) for r in ours] == [("h3", 0), ("h4", 0)]
  for mine, single in zip(ours, theirs):
    assert (mine["layer"], mine["extras"]["steps"]) == (single["layer"],
                                                        single["extras"]["steps"])
    np.testing.assert_allclose(mine["i_xt"], single["i_xt"], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(mine["i_ty"], single["i_ty"], rtol=1e-4, atol=1e-3)


def test_a_corrupt_network_is_a_clear_error(classifier, tmp_path):
  source = str(tmp_path / "classifier")
  shutil.copytree(classifier[0], source)
  with open(os.path.join(source, "checkpoints", "epoch_0001.keras"), "r+b") as stream:
    stream.seek(200)
    stream.write(b"garbage" * 20)
  result = _decoder_mi(source, tmp_path / "in_order", "", "--job=h4:1")
  assert result.returncode == 1  # Every conditional decoder is compared with this one.
  assert "run --job=unconditional first" in result.stderr
  assert _decoder_mi(source, tmp_path / "in_order", "", "--job=unconditional").returncode == 0
  result = _decoder_mi(source, tmp_path / "in_order", "", "--job=h4:1")
  assert result.returncode == 1  # By default it starts from the previous epoch's decoder.
  assert "Job h4:1 starts from decoder h4:0: run --job=h4:0 first" in result.stderr
  independent = "--warm_start=independent"
  result = _decoder_mi(source, tmp_path / "decoders", "", "--job=unconditional", independent)
  assert result.returncode == 0, result.stderr[-3000:]
  result = _decoder_mi(source, tmp_path / "decoders", "", "--job=h4:1", independent)
  assert result.returncode == 1
  assert "tfib-decoder-mi: error: The network of step 1" in result.stderr
  assert "is corrupt" in result.stderr and "Traceback" not in result.stderr
  summary = json.loads((tmp_path / "decoders" / "summary" / "summary.json").read_text())
  assert summary["unconditional"] is not None
