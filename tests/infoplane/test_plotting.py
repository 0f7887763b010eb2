"""The information plane's figure stays readable: plain numbers, ceilings, flags, notes."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from tfib import estimators
from tfib.infoplane import plotting


def _records(layer, xs, ys, log2_n=12.2288, h_y=1.0, **extra):
  return [dict(layer=layer, epoch=e, i_xt=x, i_ty=y, log2_n=log2_n, h_y=h_y, **extra)
          for e, (x, y) in enumerate(zip(xs, ys))]


@pytest.fixture
def saturated():
  pinned = _records("fconv2", 12.2287 + 1e-4 * np.arange(5), 0.99 - 1e-4 * np.arange(5),
                    distinct_fraction=1.0)
  moving = _records("h3", 8 + 0.1 * np.arange(5), 0.5 + 0.1 * np.arange(5),
                    distinct_fraction=0.4)
  moving[-1]["flags"] = {"outside_bins": "37% of the values lie outside IDNNs' [-1, 1] bins"}
  return pinned + moving


def test_a_saturated_layer_is_named_and_the_axes_use_plain_numbers(saturated):
  figure = plotting.draw(saturated, "a saturated layer")
  axes = figure.axes[0]
  figure.canvas.draw()
  assert axes.xaxis.get_offset_text().get_text() == ""  # No "+1.2287e1" offset.
  assert axes.get_xlim()[0] <= 0 < 12.2288 < axes.get_xlim()[1]
  assert axes.get_ylim()[0] <= 0 < 1.0 < axes.get_ylim()[1]
  labels = [text.get_text() for text in figure.legends[0].get_texts()]
  assert labels[:2] == ["fconv2 (at log2 N)", "h3"]
  assert "log2 N = 12.23" in labels and "H(Y) = 1.000" in labels
  legend = figure.legends[0].get_window_extent()
  assert legend.x0 >= axes.get_window_extent().x1  # Outside the data.
  notes = [t.get_text() for t in figure.texts]
  assert any("outside IDNNs' [-1, 1] bins" in n for n in notes)
  assert figure.axes[1].get_ylabel() == "epoch"  # The colorbar, in epochs (not epoch + 1).
  plt.close(figure)


def test_png_bytes():
  png = plotting.information_plane(_records("h1", [1.0, 2.0], [0.2, 0.4]))
  assert png[:8] == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(ValueError, match="No records"):
    plotting.information_plane([])


def test_idnns_bins_say_when_activations_leave_them():
  relu = np.array([[0.2], [3.0], [5.0], [0.5]])
  estimate = estimators.get("binning").estimate(relu, np.array([0, 1, 1, 0]))
  assert estimate.extras["fraction_outside_bins"] == 0.5
  assert "50% of the values lie outside IDNNs' [-1, 1] bins" in estimate.flags["outside_bins"]
  assert not estimate.failed
  assert not estimators.get("binning").estimate(np.tanh(relu)).flags
