"""--save_epochs specs."""
import pytest

from tfib.training.checkpoint_schedule import parse_save_epochs


def test_explicit_epochs_are_cut_to_the_run_and_keep_the_last():
  paper = "0,1,2,5,10,20,50,100,200"
  assert parse_save_epochs(paper, 200) == [0, 1, 2, 5, 10, 20, 50, 100, 200]
  assert parse_save_epochs(paper, 3) == [0, 1, 2, 3]
  assert parse_save_epochs("5, 1,1", 10) == [1, 5, 10]


def test_log_spaced_and_every():
  log = parse_save_epochs("log:10", 200)
  assert log[0] == 0 and log[1] == 1 and log[-1] == 200
  assert log == sorted(set(log)) and len(log) <= 11
  gaps = [b - a for a, b in zip(log[1:], log[2:])]
  assert gaps == sorted(gaps)  # Dense early, sparse late.
  assert parse_save_epochs("every:4", 10) == [0, 4, 8, 10]


@pytest.mark.parametrize("spec, message", [
    ("", "empty"), ("log:x", "positive integer"), ("every:0", "positive integer"),
    ("1,two", "comma-separated"), ("-1,2", "negative"),
])
def test_bad_specs(spec, message):
  with pytest.raises(ValueError, match=message):
    parse_save_epochs(spec, 10)
