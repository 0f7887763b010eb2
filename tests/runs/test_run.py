"""The run mechanism: manifest, configuration check, resume state, roll back, bad input."""
import errno
import glob
import json
import multiprocessing
import os
import signal
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfib import runs
from tfib.layers import Capture
from tfib.runs import event_files, tensorboard


def _tiny_model(seed):
  inputs = keras.Input((3,))
  hidden = Capture(name="h1")(keras.layers.Dense(
      2, kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs))
  return keras.Model(inputs, keras.layers.Dense(2)(hidden))


def _run(path, **options):
  run = runs.Run(path, "test-program", **options)
  run.declare("config", {"width": 4, "decay_epochs": (100.0,)})
  return run


def _write_steps(run, counter, steps, network_steps=()):
  """What a program writes for each step, then commits it."""
  journal = run.journal("results.jsonl", step_key="epoch")
  for step in steps:
    counter.assign(step)
    tensorboard.write_scalars(run.writer("train"), [("loss", 1.0 / (step + 1), step)])
    journal.append([{"epoch": step, "value": float(step)}])
    if step in network_steps:
      run.save_network(_tiny_model(step), step, f"networks/step_{step}.keras")
    run.commit(step)


def test_a_resumed_run_rolls_back_what_came_after_its_state(tmp_path):
  run = _run(tmp_path / "run")
  counter = tf.Variable(-1, dtype=tf.int64)
  run.track(counter=counter)
  assert run.start() is None
  _write_steps(run, counter, range(3), network_steps={0, 2})
  # Step 3 is written but never committed: the process dies here.
  tensorboard.write_scalars(run.writer("train"), [("loss", 99.0, 3)])
  run.journal("results.jsonl", step_key="epoch").append([{"epoch": 3, "value": 3.0}])
  run.save_network(_tiny_model(3), 3, "networks/step_3.keras")
  run.writer("train").flush()
  with open(os.path.join(run.path, ".tmp-123-results.jsonl"), "w") as stream:
    stream.write("half")

  again = _run(tmp_path / "run")
  restored = tf.Variable(-1, dtype=tf.int64)
  again.track(counter=restored)
  assert again.start() == 2 and int(restored.numpy()) == 2
  assert [r["epoch"] for r in runs.read_records(os.path.join(run.path, "results.jsonl"))] == [
      0, 1, 2]
  assert event_files.read_scalars(os.path.join(run.path, "train"))["loss"] == [
      (0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
  assert sorted(runs.saved_networks(run.path)) == [0, 2]
  assert sorted(os.listdir(os.path.join(run.path, "networks"))) == ["step_0.keras",
                                                                    "step_2.keras"]
  assert not glob.glob(os.path.join(run.path, ".tmp-*"))


def test_a_run_without_a_resume_state_starts_afresh(tmp_path):
  first = _run(tmp_path / "run")
  first.start()
  first.journal("results.jsonl").append([{"step": 0, "value": 1.0}])
  tensorboard.write_scalars(first.writer(), [("loss", 1.0, 0)])
  first.close()
  second = _run(tmp_path / "run")
  assert second.start() is None
  assert runs.read_records(os.path.join(second.path, "results.jsonl")) == []
  assert event_files.read_scalars(second.path) == {}


def test_manifest_refuses_another_configuration_or_program(tmp_path):
  run = _run(tmp_path / "run")
  run.start()
  same = runs.Run(tmp_path / "run", "test-program")
  same.declare("config", {"width": 4, "decay_epochs": [100]})
  same.open()  # Tuples and lists, ints and floats: the same configuration.
  other = runs.Run(tmp_path / "run", "test-program")
  other.declare("config", {"width": 8, "decay_epochs": [100]})
  with pytest.raises(runs.ConfigMismatchError,
                     match="config.width: 4 in the run, 8 now.*--overwrite.*--force_resume"
                     ) as error:
    other.open()
  assert error.value.differences == {"config.width": (4, 8)}
  forced = runs.Run(tmp_path / "run", "test-program", force_resume=True)
  forced.declare("config", {"width": 8, "decay_epochs": [100]})
  forced.start()
  with open(os.path.join(forced.path, "manifest.json")) as stream:
    manifest = json.load(stream)
  assert manifest["config"]["config"]["width"] == 8
  assert manifest["config_changes"] == [{"previous": {"config": {"width": 4,
                                                                  "decay_epochs": [100.0]}},
                                         "after_step": None}]
  with pytest.raises(runs.RunError, match="holds a run of test-program; tfib-mine cannot"):
    runs.Run(tmp_path / "run", "tfib-mine").open()
  late = runs.Run(tmp_path / "run", "test-program")
  late.declare("config", {"width": 8, "decay_epochs": [100]})
  late.start()
  with pytest.raises(runs.ConfigMismatchError, match="model.units"):
    late.declare("model", {"units": 3}) or late.declare("model", {"units": 4})
  with pytest.raises(ValueError, match="contradict"):
    runs.Run(tmp_path / "run", "test-program", overwrite=True, force_resume=True)


def test_a_run_created_by_another_process_meanwhile_is_joined_never_replaced(
    tmp_path, monkeypatch):
  """Two starts at once (the jobs of an array): both see no run, the other one creates it
  first. This one must then treat it as a run that was there, not write its own over it."""
  others = {}  # {run directory: the run that creates it while this one is about to}
  create = runs.atomic.create_json

  def the_other_first(path, value):
    other = others.pop(os.path.dirname(path), None)
    if other is not None:
      other.open()
    return create(path, value)

  monkeypatch.setattr(runs.atomic, "create_json", the_other_first)
  first = others[str(tmp_path / "same")] = _run(tmp_path / "same")
  assert _run(tmp_path / "same").open() == first.manifest  # Its creation time too.
  others[str(tmp_path / "other")] = _run(tmp_path / "other")
  different = runs.Run(tmp_path / "other", "test-program")
  different.declare("config", {"width": 8, "decay_epochs": [100]})
  with pytest.raises(runs.ConfigMismatchError, match="config.width: 4 in the run, 8 now"):
    different.open()
  assert runs.read_manifest(tmp_path / "other")["config"]["config"]["width"] == 4


def _start_with_width(path, width, barrier, outcomes):
  run = runs.Run(path, "test-program")
  run.declare("config", {"width": width})
  barrier.wait()
  try:
    run.open()
    outcomes.put(width)
  except runs.ConfigMismatchError:
    outcomes.put(None)
  except Exception as error:  # pylint: disable=broad-except  (reported to the test)
    outcomes.put(f"{type(error).__name__}: {error}")


def test_of_runs_started_at_once_in_one_directory_exactly_one_creates_it(tmp_path):
  context = multiprocessing.get_context("fork")  # Run.open needs no TensorFlow.
  barrier, outcomes = context.Barrier(6), context.Queue()
  processes = [context.Process(target=_start_with_width,
                               args=(str(tmp_path / "run"), width, barrier, outcomes))
               for width in range(6)]
  for process in processes:
    process.start()
  for process in processes:
    process.join(60)
  results = [outcomes.get(timeout=10) for _ in processes]
  assert all(isinstance(width, int) or width is None for width in results), results
  winners = [width for width in results if width is not None]
  assert len(winners) == 1  # The others are refused: another configuration is there.
  assert runs.read_manifest(tmp_path / "run")["config"]["config"]["width"] == winners[0]
  assert not glob.glob(str(tmp_path / "run" / f"{runs.atomic.TEMPORARY_PREFIX}*"))


def test_create_json_creates_a_file_only_once(tmp_path, monkeypatch):
  path = str(tmp_path / "made.json")
  assert runs.atomic.create_json(path, {"first": 1})
  assert not runs.atomic.create_json(path, {"second": 2})
  with open(path) as stream:
    assert json.load(stream) == {"first": 1}
  assert os.listdir(tmp_path) == ["made.json"]

  def no_hard_links(*_):
    raise OSError(errno.EPERM, "Operation not permitted")

  monkeypatch.setattr(os, "link", no_hard_links)  # FAT, some network file systems.
  path = str(tmp_path / "renamed.json")
  assert runs.atomic.create_json(path, {"first": 1})
  assert not runs.atomic.create_json(path, {"second": 2})
  with open(path) as stream:
    assert json.load(stream) == {"first": 1}
  assert sorted(os.listdir(tmp_path)) == ["made.json", "renamed.json"]
  with pytest.raises(ValueError):
    runs.atomic.create_json(str(tmp_path / "nan.json"), {"value": float("nan")})
  assert sorted(os.listdir(tmp_path)) == ["made.json", "renamed.json"]


def test_creators_with_the_same_process_id_do_not_share_a_temporary(tmp_path, monkeypatch):
  """Jobs on two machines or in two containers can have the same process id and create the
  same file of a shared directory: the second writes while the first is about to link."""
  path = str(tmp_path / "manifest.json")
  link = os.link
  outcomes = []

  def the_other_first(source, target):
    monkeypatch.setattr(os, "link", link)
    outcomes.append(runs.atomic.create_json(path, {"creator": "other"}))
    link(source, target)

  monkeypatch.setattr(os, "link", the_other_first)
  outcomes.append(runs.atomic.create_json(path, {"creator": "this"}))
  assert outcomes == [True, False]
  with open(path) as stream:
    assert json.load(stream) == {"creator": "other"}
  assert os.listdir(tmp_path) == ["manifest.json"]


def _rebuild_as(path, writer, barrier, failures):
  barrier.wait()
  try:
    for _ in range(3):
      with runs.atomic.rebuilt_directory(path) as staging:
        for index in range(10):
          with open(os.path.join(staging, f"part{index}"), "w") as stream:
            stream.write(str(writer))
          time.sleep(0.002)
  except Exception as error:  # pylint: disable=broad-except  (reported to the test)
    failures.put(f"{type(error).__name__}: {error}")


def test_directories_rebuilt_at_once_are_each_whole_and_never_mixed(tmp_path):
  """The summaries of jobs of an array that finish together: each rebuild is one writer's
  whole directory, and none of them fails."""
  context = multiprocessing.get_context("fork")
  barrier, failures = context.Barrier(4), context.Queue()
  path = str(tmp_path / "summary")
  processes = [context.Process(target=_rebuild_as, args=(path, writer, barrier, failures))
               for writer in range(4)]
  for process in processes:
    process.start()
  for process in processes:
    process.join(60)
  assert failures.empty(), failures.get()
  parts = {}
  for name in os.listdir(path):
    with open(os.path.join(path, name)) as stream:
      parts[name] = stream.read()
  assert sorted(parts) == [f"part{index}" for index in range(10)]
  assert len(set(parts.values())) == 1  # One writer's directory.
  assert sorted(os.listdir(tmp_path)) == [".summary.lock", "summary"]


def _write_until_killed(path, started):
  run = _run(path)
  run.start()
  started.set()
  time.sleep(120)
  run.close()


def _start_elsewhere(path, **options):
  """What `start` of the run in ``path`` gives in another process: "started" or the error."""
  context = multiprocessing.get_context("fork")
  outcome = context.Queue()

  def start():
    try:
      run = runs.Run(path, "test-program", **options)
      run.declare("config", {"width": 8 if options else 4, "decay_epochs": (100.0,)})
      run.start()
      outcome.put("started")
    except runs.RunError as error:
      outcome.put(str(error))

  process = context.Process(target=start)
  process.start()
  process.join(60)
  return outcome.get(timeout=10)


def test_a_run_another_process_writes_is_refused_until_it_ends(tmp_path):
  """The same command started twice at once (two terminals, a requeued job whose first
  copy still runs): the second would roll back and overwrite what the first writes."""
  context = multiprocessing.get_context("fork")
  started = context.Event()
  experiment = _run(tmp_path / "experiment")
  experiment.open()
  path = str(tmp_path / "experiment" / "job")  # A job of an experiment, as decoders are.
  writer = context.Process(target=_write_until_killed, args=(path, started))
  writer.start()
  try:
    assert started.wait(60)
    manifest = runs.read_manifest(path)
    with pytest.raises(runs.RunError,
                       match=rf"being written by another process \(.*-{writer.pid},"):
      _run(path).start()
    assert "being written by another process" in _start_elsewhere(path, force_resume=True)
    assert runs.read_manifest(path) == manifest  # The refused start changed nothing.
    for run in (_run(path, overwrite=True), _run(tmp_path / "experiment", overwrite=True)):
      with pytest.raises(runs.RunError, match="being written by another process"):
        run.open()  # Not deleted under it, nor with the experiment it is in.
    assert runs.read_manifest(path) == manifest
  finally:
    os.kill(writer.pid, signal.SIGKILL)  # However the writer ends, the run is free.
    writer.join(60)
  resumed = _run(path)
  assert resumed.start() is None
  resumed.close()


def test_the_runs_of_one_run_in_a_process_hold_its_lock_until_the_last_closes(tmp_path):
  path = str(tmp_path / "run")
  first, second = _run(path), _run(path)
  first.start()
  second.start()  # One process may hold a run twice (a callback and a checkpoint).
  second.close()
  assert "being written by another process" in _start_elsewhere(path)
  del second
  first.close()
  assert _start_elsewhere(path) == "started"
  with pytest.raises(runs.RunError, match="holds a run of test-program"):
    runs.Run(path, "tfib-mine").start()
  assert _start_elsewhere(path) == "started"  # A start that failed holds nothing.


def test_a_rebuild_deletes_what_killed_rebuilds_left(tmp_path):
  for leftover in ("summary-1a2b3c4d", "summary-1a2b3c4d-old"):
    os.makedirs(tmp_path / f"{runs.atomic.TEMPORARY_PREFIX}{leftover}" / "events")
  os.makedirs(tmp_path / "summary")
  with runs.atomic.rebuilt_directory(str(tmp_path / "summary")) as staging:
    open(os.path.join(staging, "summary.json"), "w").close()
  assert sorted(os.listdir(tmp_path)) == [".summary.lock", "summary"]
  assert os.listdir(tmp_path / "summary") == ["summary.json"]


def test_directories_that_are_not_runs_are_left_alone(tmp_path):
  (tmp_path / "thesis.tex").write_text("precious")
  for options in ({}, {"overwrite": True}, {"force_resume": True}):
    with pytest.raises(runs.RunError, match="not a tfib run directory"):
      _run(tmp_path, **options).open()
  (tmp_path / "thesis.tex").unlink()
  (tmp_path / "manifest.json").write_text(json.dumps({"format": "something else"}))
  with pytest.raises(runs.RunError, match="not the manifest of a tfib run"):
    _run(tmp_path, overwrite=True).open()
  assert (tmp_path / "manifest.json").exists()


def test_a_manifest_being_written_is_not_a_foreign_file(tmp_path):
  """What another worker sees while the multi-worker chief writes its manifest (or what a
  kill during that write left): a temporary, not a file that makes the directory foreign."""
  (tmp_path / f"{runs.atomic.TEMPORARY_PREFIX}123-manifest.json").write_text("{")
  run = _run(tmp_path)
  assert run.start() is None
  assert runs.read_manifest(tmp_path)["program"] == "test-program"
  assert not glob.glob(str(tmp_path / f"{runs.atomic.TEMPORARY_PREFIX}*"))


def test_overwrite_deletes_the_run_and_starts_again(tmp_path):
  run = _run(tmp_path / "run")
  counter = tf.Variable(0, dtype=tf.int64)
  run.track(counter=counter)
  run.start()
  _write_steps(run, counter, range(2))
  fresh = _run(tmp_path / "run", overwrite=True)
  fresh.track(counter=tf.Variable(0, dtype=tf.int64))
  assert fresh.start() is None
  assert not os.path.exists(os.path.join(fresh.path, "results.jsonl"))


def _corrupt(path):
  with open(path, "r+b") as stream:
    stream.truncate(os.path.getsize(path) // 2)


def test_a_corrupt_resume_state_stops_or_falls_back_to_the_previous_one(tmp_path):
  run = _run(tmp_path / "run")
  weights = tf.Variable(np.zeros(1000, np.float32))
  run.track(weights=weights)
  run.start()
  for step in range(3):
    weights.assign(np.full(1000, step, np.float32))
    run.journal("results.jsonl").append([{"step": step}])
    run.commit(step)
  (data_file,) = glob.glob(os.path.join(run.path, "resume", "ckpt-2.data-*"))
  _corrupt(data_file)
  stuck = _run(tmp_path / "run")
  stuck.track(weights=tf.Variable(np.zeros(1000, np.float32)))
  with pytest.raises(runs.CorruptStateError,
                     match="ckpt-2 cannot be read.*ckpt-1 is still there.*fall_back"):
    stuck.start()
  restored = tf.Variable(np.zeros(1000, np.float32))
  fallen = _run(tmp_path / "run", fall_back=True)
  fallen.track(weights=restored)
  assert fallen.start() == 1 and fallen.skipped_steps == [2]
  np.testing.assert_array_equal(restored.numpy(), 1.0)
  assert [r["step"] for r in runs.read_records(os.path.join(run.path, "results.jsonl"))] == [
      0, 1]
  assert not glob.glob(os.path.join(run.path, "resume", "ckpt-2.*"))
  _corrupt(glob.glob(os.path.join(run.path, "resume", "ckpt-1.data-*"))[0])
  only = _run(tmp_path / "run", fall_back=True)
  only.track(weights=tf.Variable(np.zeros(1000, np.float32)))
  with pytest.raises(runs.CorruptStateError, match="No resume state .* can be read"):
    only.start()


def test_a_full_disk_during_a_commit_keeps_the_previous_state(tmp_path, monkeypatch):
  run = _run(tmp_path / "run")
  counter = tf.Variable(0, dtype=tf.int64)
  run.track(counter=counter)
  run.start()
  _write_steps(run, counter, range(2))

  def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(tf.train.CheckpointManager, "save", no_space)
  counter.assign(2)
  with pytest.raises(runs.RunError, match=r"resume state of step 2 .*No space left on device.*"
                                          r"previous state \(ckpt-1\) is intact"):
    run.commit(2)
  monkeypatch.undo()
  again = _run(tmp_path / "run")
  restored = tf.Variable(0, dtype=tf.int64)
  again.track(counter=restored)
  assert again.start() == 1 and int(restored.numpy()) == 1


def test_event_files_cut_short_by_a_kill_are_repaired(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  tensorboard.write_scalars(writer, [("loss", float(step), step) for step in range(3)])
  writer.close()
  (path,) = event_files.event_file_paths(str(tmp_path))
  with open(path, "ab") as stream:
    stream.write(b"\x10\x00\x00")  # The start of a record that was never finished.
  event_files.truncate_events(str(tmp_path), max_step=1)
  assert event_files.read_scalars(str(tmp_path))["loss"] == [(0, 0.0), (1, 1.0)]
  assert event_files._read_records(path)[1] is False  # pylint: disable=protected-access


def test_nested_runs_keep_their_own_events(tmp_path):
  parent = _run(tmp_path / "parent")
  parent.start()
  child = _run(tmp_path / "parent" / "child")
  child.track(counter=tf.Variable(0, dtype=tf.int64))
  child.start()
  tensorboard.write_scalars(child.writer(), [("loss", 1.0, 5)])
  child.commit(5)
  child.close()
  _run(tmp_path / "parent").start()  # Rolls back everything of its own, not the child's.
  assert event_files.read_scalars(child.path)["loss"] == [(5, 1.0)]


def test_saved_networks_are_verified_when_loaded(tmp_path):
  run = _run(tmp_path / "run")
  run.start()
  model = _tiny_model(1)
  run.save_network(model, 1, "networks/one.keras")
  run.save_network(_tiny_model(2), 2, "networks/two.keras")
  x = np.ones((2, 3), np.float32)
  np.testing.assert_allclose(runs.load_network(run.path, 1)(x), model(x), rtol=1e-6)
  with pytest.raises(KeyError, match=r"no network saved at step 3; saved: \[1, 2\]"):
    runs.load_network(run.path, 3)
  path = os.path.join(run.path, "networks", "two.keras")
  with open(path, "r+b") as stream:
    stream.seek(100)
    stream.write(b"garbage" * 10)
  with pytest.raises(runs.CorruptStateError, match="step 2 .* is corrupt.*SHA-256"):
    runs.load_network(run.path, 2)
  with pytest.raises(runs.CorruptStateError, match="cannot be read"):
    runs.load_network(run.path, 2, verify=False)
  assert runs.load_network(run.path, 1) is not None


def test_journal_lines_torn_by_a_kill_are_dropped(tmp_path):
  path = tmp_path / "results.jsonl"
  path.write_text(json.dumps({"step": 0}) + "\n" + '{"step": 1, "val')
  journal = runs.Journal(str(path))
  assert journal.records() == [{"step": 0}]
  journal.truncate(5)
  journal.append([{"step": 1}])
  assert journal.records() == [{"step": 0}, {"step": 1}]
  with pytest.raises(ValueError, match="has no 'step'"):
    journal.append([{"epoch": 2}])
  with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
    journal.append([{"step": 2, "value": float("nan")}])
