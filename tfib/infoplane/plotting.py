"""Matplotlib figures: the information plane with its ceilings."""
import io
from typing import Dict, List, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top
import numpy as np  # noqa: E402  pylint: disable=g-import-not-at-top


def information_plane(records: List[Dict], title: Optional[str] = None) -> bytes:
  """Draws I(T;Y) against I(X;T), one line per layer, points coloured by epoch.

  ``records`` are results-file records of one estimator (keys layer, epoch, i_xt, i_ty,
  log2_n, h_y; with i_xt_std and i_ty_std, aggregated over runs, error bars are drawn). The ceilings log2 N (vertical) and H(Y) (horizontal) are drawn dashed: a
  layer pressed against log2 N has a distinct code per sample and tells nothing about
  compression. Returns the PNG bytes.
  """
  if not records:
    raise ValueError("No records to plot.")
  by_layer: Dict[str, List[Dict]] = {}
  for record in sorted(records, key=lambda r: r["epoch"]):
    by_layer.setdefault(record["layer"], []).append(record)
  epochs = np.array([r["epoch"] for r in records], dtype=float)
  norm = matplotlib.colors.LogNorm(vmin=max(epochs.min(), 0) + 1, vmax=epochs.max() + 1)

  figure, axes = plt.subplots(figsize=(7, 5), dpi=100)
  for layer, points in by_layer.items():
    x = [p["i_xt"] for p in points]
    y = [np.nan if p["i_ty"] is None else p["i_ty"] for p in points]
    axes.plot(x, y, color="0.75", linewidth=0.6, zorder=1)
    if points[0].get("i_xt_std") is not None:  # Aggregated runs: mean ± sd.
      axes.errorbar(x, y, xerr=[p["i_xt_std"] for p in points],
                    yerr=[p.get("i_ty_std") or 0.0 for p in points], fmt="none",
                    ecolor="0.8", elinewidth=0.5, zorder=0)
    scatter = axes.scatter(x, y, c=[p["epoch"] + 1 for p in points], cmap="viridis",
                           norm=norm, s=14, zorder=2, edgecolors="none")
    axes.annotate(layer, (x[-1], y[-1]), textcoords="offset points", xytext=(4, 4),
                  fontsize=8)
  log2_n = records[0]["log2_n"]
  axes.axvline(log2_n, color="tab:red", linestyle="--", linewidth=1,
               label=f"log2 N = {log2_n:.2f}")
  if records[0].get("h_y") is not None:
    axes.axhline(records[0]["h_y"], color="tab:blue", linestyle="--", linewidth=1,
                 label=f"H(Y) = {records[0]['h_y']:.3f}")
  figure.colorbar(scatter, ax=axes, label="epoch + 1")
  axes.set_xlabel("I(X;T) [bits]")
  axes.set_ylabel("I(T;Y) [bits]")
  axes.set_title(title or "Information plane")
  axes.legend(loc="lower right", fontsize=8)
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  return buffer.getvalue()
