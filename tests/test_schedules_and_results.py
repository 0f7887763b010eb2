import json

import numpy as np
import pytest

from tfib import schedules
from tfib.results import ResultsFile, read_records


def test_log_spaced_epochs_reproduce_idnns_274():
  epochs = schedules.log_spaced_epochs(8000, 400)
  assert len(epochs) == 274 and epochs[0] == 0 and epochs[-1] == 7999
  assert np.all(np.diff(epochs) > 0)


def test_every_k_epochs_include_the_last():
  np.testing.assert_array_equal(schedules.every_k_epochs(10, 4), [0, 4, 8, 9])
  with pytest.raises(ValueError):
    schedules.every_k_epochs(0, 1)


def _record(epoch):
  return {"estimator_label": "binning", "layer": "h1", "epoch": epoch, "i_xt": 1.0}


def test_results_file_appends_without_duplicates(tmp_path):
  path = str(tmp_path / "results.jsonl")
  ResultsFile(path).append([_record(0), _record(1)])
  again = ResultsFile(path)
  assert ("binning", "h1", 1) in again
  again.append([_record(1), _record(2)])
  assert [r["epoch"] for r in read_records(path)] == [0, 1, 2]


def test_a_line_torn_by_a_crash_is_dropped_on_reopen(tmp_path):
  path = tmp_path / "results.jsonl"
  path.write_text(json.dumps(_record(0)) + "\n" + '{"estimator_label": "bin')
  assert [r["epoch"] for r in read_records(str(path))] == [0]
  ResultsFile(str(path)).append([_record(1)])
  assert [r["epoch"] for r in read_records(str(path))] == [0, 1]
