"""The one run mechanism of tfib: every program writes one run directory through it.

A `Run` knows what experiment it holds (its manifest refuses another configuration with the
list of differences), keeps a resume state (`tf.train.Checkpoint` of whatever a replay
needs), and on resume rolls back everything written after that state — TensorBoard
summaries, journals such as the results file, saved networks — so the replay writes each
once. Data order and noise are functions of (seed, step) (`tfib.data.epoch_order`), so the resumed run
is, by construction, the run that was never interrupted.

    from tfib import runs
    run = runs.Run("runs/x", program="my-program")
    run.declare("config", {...})
    run.track(model=model, optimizer=optimizer)
    start = run.start()          # None for a new run, else the step it resumes after

Inside ``model.fit``: `tfib.callbacks.RunCheckpoint` and `tfib.callbacks.TrainingScalars`.
"""
from tfib.runs import atomic
from tfib.runs.errors import ConfigMismatchError, CorruptStateError, RunError
from tfib.runs.journal import Journal, read_records
from tfib.runs.run import (Run, is_run_directory, load_network, network_path,
                           read_manifest, saved_networks)

__all__ = ["ConfigMismatchError", "CorruptStateError", "Journal", "Run", "RunError", "atomic",
           "is_run_directory", "load_network", "network_path", "read_manifest", "read_records",
           "saved_networks"]
