"""planes: tfib's scalar summaries into information-plane data, from plain dicts."""
import math

import pytest

from tfib.tensorboard_plugin import planes


def _run(estimator="binning", layers=("h1", "h2"), steps=(0, 4, 8)):
  """{tag: [(step, value)]} with I_XT = 10 * layer number + step, I_TY = step / 100."""
  series = {}
  for number, layer in enumerate(layers, 1):
    series[f"mi/{estimator}/{layer}/I_XT"] = [(s, 10.0 * number + s) for s in steps]
    series[f"mi/{estimator}/{layer}/I_TY"] = [(s, s / 100) for s in steps]
  return series


def _layers(result, run):
  [entry] = [entry for entry in result["runs"] if entry["run"] == run]
  return {layer["layer"]: layer["points"] for layer in entry["layers"]}


@pytest.mark.parametrize("tag, expected", [
    ("mi/binning/h1/I_XT", planes.Tag("mi", "binning", "h1", "I_XT", "x")),
    ("mi/binning_saxe_0.2/dense_3/I_TY",
     planes.Tag("mi", "binning_saxe_0.2", "dense_3", "I_TY", "y")),
    ("mi/decoder/h1/I_XH", planes.Tag("mi", "decoder", "h1", "I_XH", "x")),
    ("mi/decoder/h1/I_HY", planes.Tag("mi", "decoder", "h1", "I_HY", "y")),
    ("mi/a/b/h1/I_XT", planes.Tag("mi", "a/b", "h1", "I_XT", "x")),
    ("mi_std/binning/h1/I_TY", planes.Tag("mi_std", "binning", "h1", "I_TY", "y")),
    ("mi_failed/mine/h1/I_XT", planes.Tag("mi_failed", "mine", "h1", "I_XT", "x")),
    ("mi_ci/mine/h1/I_XT_low", planes.Tag("mi_ci", "mine", "h1", "I_XT", "x", "low")),
    ("mi_ci/mine/h1/I_TY_high", planes.Tag("mi_ci", "mine", "h1", "I_TY", "y", "high")),
    ("mi_ceiling/binning_idnns_30/I_XT",
     planes.Tag("mi_ceiling", "binning_idnns_30", None, "I_XT", "x")),
])
def test_parse_tag(tag, expected):
  assert planes.parse_tag(tag) == expected


@pytest.mark.parametrize("tag", [
    "training/loss", "mi/binning/h1/distinct_fraction", "mi/binning/I_XT", "mi/h1/I_XT",
    "mi//h1/I_XT", "mi/binning//I_XT", "mi_ci/mine/h1/I_XT", "mi_ci/mine/h1/I_XT_mid",
    "mi_ceiling/I_XT", "infoplane/binning", "mi_other/binning/h1/I_XT", "mi/binning/h1/X_TY",
])
def test_tags_that_are_no_plane_tags(tag):
  assert planes.parse_tag(tag) is None


def test_axis_symbols():
  assert planes.axis_symbol("I_XT") == "I(X;T)"
  assert planes.axis_symbol("I_TY") == "I(T;Y)"
  assert planes.axis_symbol("I_XH") == "I(X;H)"
  assert planes.axis_symbol("I_HY") == "I(H;Y)"


def test_estimators_lists_the_runs_of_each_estimator_in_natural_order():
  tags_by_run = {
      "seed_10": list(_run("binning")),
      "seed_2": list(_run("binning")) + list(_run("kde_upper")),
      "aggregate": list(_run("binning")) + ["mi_std/binning/h1/I_XT"],
      "other": ["training/loss", "mi_ceiling/binning/I_XT"],
      "failed_only": ["mi_failed/mine/h1/I_XT", "mi_failed/mine/h1/I_TY"],
  }
  assert planes.estimators(tags_by_run) == {
      "binning": ["aggregate", "seed_2", "seed_10"],
      "kde_upper": ["seed_2"],
      "mine": ["failed_only"],
  }
  assert planes.estimators({"run": ["training/loss"]}) == {}


def test_select_tags_keeps_every_kind_of_one_estimator():
  tags = ["mi/a/h1/I_XT", "mi_std/a/h1/I_XT", "mi_ceiling/a/I_TY", "mi_ci/a/h1/I_XT_low",
          "mi_failed/a/h1/I_TY", "mi/ab/h1/I_XT", "mi/a/h1/distinct_fraction", "training/loss"]
  assert planes.select_tags(tags, "a") == sorted(tags[:5])


def test_plane_pairs_coordinates_by_step():
  result = planes.plane({"seed_0": _run(layers=("h1", "h10", "h2", "output"))}, "binning")
  assert result["estimator"] == "binning"
  assert result["axes"] == {
      "x": {"quantity": "I_XT", "symbol": "I(X;T)", "label": "I(X;T) [bits]"},
      "y": {"quantity": "I_TY", "symbol": "I(T;Y)", "label": "I(T;Y) [bits]"},
  }
  layers = _layers(result, "seed_0")
  assert list(layers) == ["h1", "h2", "h10", "output"]  # Natural order.
  assert layers["h1"] == [{"epoch": 0, "x": 10.0, "y": 0.0}, {"epoch": 4, "x": 14.0, "y": 0.04},
                          {"epoch": 8, "x": 18.0, "y": 0.08}]
  assert result["epochs"] == [0, 4, 8]
  assert result["ceilings"] == []
  assert result["dropped"] == 0


def test_plane_keeps_only_steps_with_both_coordinates_in_epoch_order():
  series = {"mi/b/h1/I_XT": [(8, 1.0), (0, 3.0), (4, 2.0)], "mi/b/h1/I_TY": [(4, 0.5), (8, 0.25)]}
  points = _layers(planes.plane({"r": series}, "b"), "r")["h1"]
  assert points == [{"epoch": 4, "x": 2.0, "y": 0.5}, {"epoch": 8, "x": 1.0, "y": 0.25}]


def test_plane_ignores_other_estimators_and_other_tags():
  series = {**_run("binning"), **_run("binning_saxe_0.2", layers=("h9",)),
            "training/loss": [(0, 1.0)], "mi/binning/h1/distinct_fraction": [(0, 0.5)]}
  result = planes.plane({"r": series}, "binning")
  assert list(_layers(result, "r")) == ["h1", "h2"]


def test_plane_of_several_runs_unites_their_epochs():
  result = planes.plane({"seed_1": _run(steps=(0, 5)), "seed_0": _run(steps=(0, 4, 8)),
                         "empty": {"training/loss": [(0, 1.0)]}}, "binning")
  assert [entry["run"] for entry in result["runs"]] == ["seed_0", "seed_1"]
  assert result["epochs"] == [0, 4, 5, 8]


def test_plane_attaches_the_spread_of_an_aggregate_run():
  series = _run(layers=("h1",), steps=(0, 4))
  series["mi_std/binning/h1/I_XT"] = [(0, 0.5), (4, 0.25)]
  series["mi_std/binning/h1/I_TY"] = [(4, 0.125)]
  points = _layers(planes.plane({"aggregate": series}, "binning"), "aggregate")["h1"]
  assert points == [{"epoch": 0, "x": 10.0, "y": 0.0, "x_std": 0.5},
                    {"epoch": 4, "x": 14.0, "y": 0.04, "x_std": 0.25, "y_std": 0.125}]


def test_plane_attaches_confidence_intervals_with_both_bounds():
  series = _run("mine", layers=("h1",), steps=(0, 4))
  series.update({"mi_ci/mine/h1/I_XT_low": [(0, 9.0), (4, 13.0)],
                 "mi_ci/mine/h1/I_XT_high": [(0, 11.0), (4, 15.0)],
                 "mi_ci/mine/h1/I_TY_low": [(4, 0.01)]})  # No upper bound: no CI.
  points = _layers(planes.plane({"r": series}, "mine"), "r")["h1"]
  assert points[0]["ci"] == {"x": [9.0, 11.0]}
  assert points[1]["ci"] == {"x": [13.0, 15.0]}


def test_failed_estimates_are_points_flagged_failed():
  series = {
      "mi/mine/h1/I_XT": [(0, 1.0), (4, 2.0)],
      "mi/mine/h1/I_TY": [(0, 0.1)],
      "mi_failed/mine/h1/I_TY": [(4, 0.3)],
      "mi_failed/mine/h2/I_XT": [(0, 5.0)],
      "mi_failed/mine/h2/I_TY": [(0, 0.5)],
  }
  layers = _layers(planes.plane({"r": series}, "mine"), "r")
  assert layers["h1"] == [{"epoch": 0, "x": 1.0, "y": 0.1},
                          {"epoch": 4, "x": 2.0, "y": 0.3, "failed": ["y"]}]
  assert layers["h2"] == [{"epoch": 0, "x": 5.0, "y": 0.5, "failed": ["x", "y"]}]


def test_a_measured_estimate_wins_over_a_failed_one_at_the_same_step():
  series = {"mi/m/h1/I_XT": [(0, 1.0)], "mi/m/h1/I_TY": [(0, 0.1)],
            "mi_failed/m/h1/I_TY": [(0, 0.9)]}
  assert _layers(planes.plane({"r": series}, "m"), "r")["h1"] == [
      {"epoch": 0, "x": 1.0, "y": 0.1}]


def test_ceilings_are_the_last_values_distinct_over_runs():
  one = {**_run(), "mi_ceiling/binning/I_XT": [(8, 12.0), (0, 11.0)],
         "mi_ceiling/binning/I_TY": [(0, 0.999), (8, 0.999)]}
  other = {**_run(), "mi_ceiling/binning/I_XT": [(0, 12.0)], "mi_ceiling/binning/I_TY": [(0, 0.5)]}
  result = planes.plane({"a": one, "b": other, "c": _run()}, "binning")
  assert result["ceilings"] == [{"axis": "x", "name": "log2 N", "value": 12.0},
                                {"axis": "y", "name": "H(Y)", "value": 0.5},
                                {"axis": "y", "name": "H(Y)", "value": 0.999}]


def test_the_decoder_quantities_make_a_plane():
  series = {"mi/decoder/h1/I_XH": [(0, 3.0)], "mi/decoder/h1/I_HY": [(0, 0.5)],
            "mi_ceiling/decoder/I_XH": [(0, 12.0)]}
  result = planes.plane({"r": series}, "decoder")
  assert result["axes"]["x"]["label"] == "I(X;H) [bits]"
  assert result["axes"]["y"]["label"] == "I(H;Y) [bits]"
  assert _layers(result, "r")["h1"] == [{"epoch": 0, "x": 3.0, "y": 0.5}]
  assert result["ceilings"] == [{"axis": "x", "name": "log2 N", "value": 12.0}]


def test_points_that_are_not_finite_are_dropped_and_counted():
  series = {"mi/m/h1/I_XT": [(0, 1.0), (4, math.nan), (8, 3.0)],
            "mi/m/h1/I_TY": [(0, 0.1), (4, 0.2), (8, math.inf)],
            "mi_ceiling/m/I_XT": [(0, math.nan)]}
  result = planes.plane({"r": series}, "m")
  assert _layers(result, "r")["h1"] == [{"epoch": 0, "x": 1.0, "y": 0.1}]
  assert result["dropped"] == 2
  assert result["ceilings"] == []


def test_a_layer_without_a_placeable_point_is_left_out():
  series = {**_run(layers=("h1",)), "mi/binning/h2/I_XT": [(0, 1.0)]}
  assert list(_layers(planes.plane({"r": series}, "binning"), "r")) == ["h1"]


def test_an_estimator_without_data_is_an_error():
  with pytest.raises(ValueError, match=r"No information-plane scalars \(mi/kde/"):
    planes.plane({"r": _run("binning")}, "kde")
  with pytest.raises(ValueError, match="No information-plane scalars"):
    planes.plane({"r": {"mi/kde/h1/I_XT": [(0, 1.0)]}}, "kde")


def test_two_quantities_on_one_axis_are_an_error():
  series = {**_run(layers=("h1",)), "mi/binning/h1/I_XH": [(0, 1.0)]}
  with pytest.raises(ValueError, match=r"several x quantities \(I_XH, I_XT\)"):
    planes.plane({"r": series}, "binning")
