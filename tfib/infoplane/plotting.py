"""Matplotlib figures: the information plane with its ceilings, readable in every case."""
import io
from typing import Dict, List, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top
import numpy as np  # noqa: E402  pylint: disable=g-import-not-at-top

from tfib.estimators.counting import CEILING_TOLERANCE  # noqa: E402  pylint: disable=g-import-not-at-top

__all__ = ["at_ceiling", "draw", "information_plane", "sweep_figure"]

_LEGEND_LEFT = 0.78  # The plot takes the figure's width up to here; the legend the rest.


def at_ceiling(record: Dict) -> bool:
  """Whether a record's I(X;T) is pinned at log2 N (every input its own code)."""
  if record.get("distinct_fraction") == 1.0:
    return True
  return (record.get("i_xt") is not None and record.get("log2_n") is not None
          and record["log2_n"] - record["i_xt"] < CEILING_TOLERANCE)


def _layer_label(layer: str, points: List[Dict], ceiling: str = "log2 N") -> str:
  last = points[-1]
  notes = []
  if at_ceiling(last):
    notes.append(f"at {ceiling}")
  if last.get("failed"):
    notes.append("failed")
  return f"{layer} ({', '.join(notes)})" if notes else layer


def _warnings(records: List[Dict]) -> List[str]:
  """The caveats of the records (flags that are not failures), one line each."""
  lines = {}
  for record in records:
    for name, reason in (record.get("flags") or {}).items():
      if name == "outside_bins":
        lines.setdefault(name, f"{reason} (e.g. {record['layer']})")
  return list(lines.values())


def information_plane(records: List[Dict], title: Optional[str] = None,
                      axes=("I(X;T)", "I(T;Y)"), ceilings=("log2 N", "H(Y)")) -> bytes:
  """The PNG of `draw`."""
  figure = draw(records, title, axes, ceilings)
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  return buffer.getvalue()


def draw(records: List[Dict], title: Optional[str] = None, axes_names=("I(X;T)", "I(T;Y)"),
         ceilings=("log2 N", "H(Y)")) -> matplotlib.figure.Figure:
  """Draws I(T;Y) against I(X;T): one path per layer in its own color, points colored by
  epoch, the ceilings log2 N (vertical) and H(Y) (horizontal) dashed.

  ``records`` are results-file records of one estimator (keys layer, epoch, i_xt, i_ty,
  log2_n, h_y; with i_xt_std and i_ty_std — aggregated over runs — error bars are drawn).
  The axes start at 0 and reach past the ceilings, with plain numbers; a layer pressed
  against log2 N (a distinct code per sample, so it tells nothing about compression) and a
  failed estimate are named so in the legend, which sits outside the data; caveats of the
  estimates (values outside fixed bins) are printed under the plane. ``axes_names`` and
  ``ceilings`` name the quantities (the decoder program plots I(X;H), I(H;Y) with the
  ceilings H(X), H(Y); the records' log2_n key then holds H(X)).
  """
  if not records:
    raise ValueError("No records to plot.")
  by_layer: Dict[str, List[Dict]] = {}
  for record in sorted(records, key=lambda r: r["epoch"]):
    by_layer.setdefault(record["layer"], []).append(record)
  epochs = np.array([r["epoch"] for r in records], dtype=float)
  norm = matplotlib.colors.PowerNorm(0.4, vmin=epochs.min(), vmax=max(epochs.max(),
                                                                      epochs.min() + 1))
  colors = plt.get_cmap("tab10")

  figure, axes = plt.subplots(figsize=(8.5, 5), dpi=100)
  scatter = None
  for index, (layer, points) in enumerate(by_layer.items()):
    x = np.array([p["i_xt"] for p in points], dtype=float)
    y = np.array([np.nan if p.get("i_ty") is None else p["i_ty"] for p in points])
    color = colors(index % 10)
    axes.plot(x, y, color=color, linewidth=1.2, zorder=1, label=_layer_label(layer, points, ceilings[0]))
    if points[0].get("i_xt_std") is not None:  # Aggregated runs: mean ± sd.
      axes.errorbar(x, y, xerr=[p["i_xt_std"] or 0.0 for p in points],
                    yerr=[p.get("i_ty_std") or 0.0 for p in points], fmt="none",
                    ecolor=color, alpha=0.35, elinewidth=0.6, zorder=0)
    failed = np.array([bool(p.get("failed")) for p in points])
    scatter = axes.scatter(x[~failed], y[~failed], c=[p["epoch"] for p, f in zip(points, failed)
                                                      if not f],
                           cmap="viridis", norm=norm, s=16, zorder=2, edgecolors=color,
                           linewidths=0.4)
    if failed.any():
      axes.scatter(x[failed], y[failed], facecolors="none", edgecolors="0.5", s=16, zorder=2)

  log2_n = records[0].get("log2_n")
  h_y = records[0].get("h_y")
  values_x = [r["i_xt"] for r in records if r.get("i_xt") is not None]
  values_y = [r["i_ty"] for r in records if r.get("i_ty") is not None]
  if log2_n is not None:
    axes.axvline(log2_n, color="0.3", linestyle="--", linewidth=1,
                 label=f"{ceilings[0]} = {log2_n:.2f}")
  if h_y is not None:
    axes.axhline(h_y, color="0.3", linestyle=":", linewidth=1,
                 label=f"{ceilings[1]} = {h_y:.3f}")
  right = max([log2_n or 0.0] + values_x)
  top = max([h_y or 0.0] + values_y)
  axes.set_xlim(min([0.0] + values_x) - 0.02 * right, right * 1.05 + 1e-9)
  axes.set_ylim(min([0.0] + values_y) - 0.02 * top, top * 1.08 + 1e-9)
  for axis in (axes.xaxis, axes.yaxis):
    axis.set_major_formatter(matplotlib.ticker.ScalarFormatter(useOffset=False))
    axis.get_major_formatter().set_scientific(False)
  colorbar = figure.colorbar(scatter, ax=axes, pad=0.02)
  colorbar.set_label("epoch")
  colorbar.locator = matplotlib.ticker.MaxNLocator(nbins=8, integer=True)
  colorbar.formatter = matplotlib.ticker.FormatStrFormatter("%d")
  colorbar.update_ticks()
  axes.set_xlabel(f"{axes_names[0]} [bits]")
  axes.set_ylabel(f"{axes_names[1]} [bits]")
  axes.set_title(title or "Information plane", fontsize=10)
  handles, labels = axes.get_legend_handles_labels()
  figure.legend(handles, labels, loc="upper right", fontsize=8, frameon=False)
  notes = _warnings(records)
  if notes:
    figure.text(0.01, 0.01, "\n".join(f"note: {n}" for n in notes), fontsize=7, color="0.3",
                va="bottom")
  figure.tight_layout(rect=(0, 0.04 * len(notes), _LEGEND_LEFT, 1))
  return figure


def sweep_figure(parameter: str, points) -> bytes:
  """Final I(X;T) and I(T;Y) of every layer against a swept ``parameter``, with the
  ceilings: ``points`` are (value, point summary) pairs (`tfib.experiments.sweep`).
  Saturated layers are drawn hollow. Returns PNG bytes."""
  points = sorted(points, key=lambda item: item[0])
  layers = list(dict.fromkeys(layer for _, summary in points for layer in summary["layers"]))
  figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
  colors = plt.get_cmap("tab10")
  ticks = [value for value, _ in points]
  positions = {value: index for index, value in enumerate(dict.fromkeys(ticks))}
  for index, layer in enumerate(layers):
    found = [(positions[value], summary["layers"][layer]) for value, summary in points
             if layer in summary["layers"]]
    for axes, key in ((left, "final_i_xt"), (right, "final_i_ty")):
      x = [position for position, _ in found if _[key] is not None]
      y = [s[key] for _, s in found if s[key] is not None]
      axes.plot(x, y, color=colors(index % 10), marker="o", label=layer)
      hollow = [(position, s[key]) for position, s in found if s["saturated"]]
      if hollow:
        axes.scatter(*zip(*hollow), s=60, facecolors="white", edgecolors=colors(index % 10),
                     zorder=3)
  first = points[0][1]["layers"][layers[0]]
  left.axhline(first["log2_n"], color="0.3", linestyle="--", linewidth=1,
               label=f"log2 N = {first['log2_n']:.2f}")
  if first["h_y"] is not None:
    right.axhline(first["h_y"], color="0.3", linestyle=":", linewidth=1,
                  label=f"H(Y) = {first['h_y']:.3f}")
  for axes, label in ((left, "final I(X;T) [bits]"), (right, "final I(T;Y) [bits]")):
    axes.set_xticks(list(positions.values()), [str(v) for v in positions])
    axes.set_xlabel(parameter)
    axes.set_ylabel(label)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter(useOffset=False))
  handles, labels = left.get_legend_handles_labels()
  extra_handles, extra_labels = right.get_legend_handles_labels()
  figure.legend(handles + extra_handles[-1:], labels + extra_labels[-1:], loc="upper right",
                fontsize=8, frameon=False)
  figure.suptitle(f"Sweep over {parameter} (hollow: saturated, I(X;T) at log2 N)", fontsize=10)
  figure.tight_layout(rect=(0, 0, 0.86, 0.95))
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  return buffer.getvalue()


def beta_sweep_figure(summary: Dict) -> bytes:
  """tfib-layerwise's figure (`tfib.experiments.layerwise`): left, the test accuracy of the
  layer-wise networks against β with the end-to-end network's as a line; right, the β
  sweep's information planes, one path through the layers per β (end to end dashed), with
  the ceilings log2 N and H(Y). Returns PNG bytes."""
  figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
  baseline = summary["end_to_end"]
  sweep = list(summary["layerwise"].values())
  done = [r for r in sweep if r["test_accuracy"] is not None]
  positions = {r["beta"]: index for index, r in enumerate(sweep)}
  if done:
    left.plot([positions[r["beta"]] for r in done], [100 * r["test_accuracy"] for r in done],
              marker="o", color="C0", label="layer-wise (IB Lagrangian)")
  if baseline["test_accuracy"] is not None:
    left.axhline(100 * baseline["test_accuracy"], color="C3", linestyle="--",
                 label=f"end to end (cross-entropy) {100 * baseline['test_accuracy']:.2f}%")
  for result in sweep:
    if result["test_accuracy"] is None:
      left.annotate(result["status"], (positions[result["beta"]], left.get_ylim()[0]),
                    fontsize=7, color="0.4", ha="center", va="bottom")
  left.set_xticks(list(positions.values()), [f"{b:g}" for b in positions])
  left.set_xlabel("β")
  left.set_ylabel("test accuracy [%]")
  left.legend(fontsize=8, frameon=False, loc="lower left")
  colors = plt.get_cmap("viridis")
  regimes = [(f"β = {r['beta']:g}", r, colors(i / max(1, len(sweep) - 1)), "-")
             for i, r in enumerate(sweep)] + [("end to end", baseline, "C3", "--")]
  ceilings = None
  for label, result, color, style in regimes:
    layers = result["layers"]
    if not layers:
      continue
    ceilings = (layers[0]["log2_n"], layers[0]["h_y"])
    x = [p["i_xt"] for p in layers]
    y = [p["i_ty"] for p in layers]
    right.plot(x, y, style, color=color, marker="o", markersize=4, linewidth=1.2, label=label)
    for index, (px, py) in enumerate(zip(x, y)):
      right.annotate(str(index + 1), (px, py), fontsize=6, xytext=(3, 3),
                     textcoords="offset points", color=color)
  if ceilings is not None:
    right.axvline(ceilings[0], color="0.3", linestyle="--", linewidth=1,
                  label=f"log2 N = {ceilings[0]:.2f}")
    if ceilings[1] is not None:
      right.axhline(ceilings[1], color="0.3", linestyle=":", linewidth=1,
                    label=f"H(Y) = {ceilings[1]:.3f}")
    right.set_xlim(0, 1.05 * max(ceilings[0], right.get_xlim()[1]))
    right.set_ylim(0, 1.08 * max(ceilings[1] or 0.0, right.get_ylim()[1]))
  right.set_xlabel("I(X;T_σ) [bits] (KDE upper bound)")
  right.set_ylabel("I(T_σ;Y) [bits] (KDE)")
  right.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
  figure.suptitle(f"Layer-wise IB training against end to end (σ = "
                  f"{summary['noise_std']:g}; numbers: layers)", fontsize=10)
  figure.tight_layout(rect=(0, 0, 1, 0.95))
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  return buffer.getvalue()
