import pytest

from tfib import estimators


def test_get_builds_by_name_with_parameters():
  binning = estimators.get("binning", scheme="saxe", bin_size=0.1)
  assert binning.name == "binning" and binning.params == {"scheme": "saxe", "bin_size": 0.1}
  assert estimators.get(binning.name, **binning.params).params == binning.params


def test_from_spec_parses_literals_and_strings():
  estimator = estimators.from_spec("binning:scheme=adaptive, num_bins=12, per_neuron=True")
  assert estimator.params == {"scheme": "adaptive", "num_bins": 12, "per_neuron": True}
  assert estimators.from_spec("exact").params == {"bits": 8}


def test_unknown_estimator_lists_the_known_ones():
  with pytest.raises(ValueError, match="Unknown estimator 'kraskov'.*binning.*exact"):
    estimators.get("kraskov")


@pytest.mark.parametrize("spec", ["binning:num_bins", "binning:colour=red"])
def test_bad_specs(spec):
  with pytest.raises(ValueError, match="estimator spec"):
    estimators.from_spec(spec)


def test_a_misspelt_parameter_names_the_valid_ones():
  with pytest.raises(ValueError, match="Unknown parameter 'num_bin' for estimator 'binning'; "
                                       "its parameters are: scheme, num_bins, bin_size"):
    estimators.get("binning", num_bin=30)
