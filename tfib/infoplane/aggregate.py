"""Mean and spread of information planes over repeated runs (seeds).

For each estimator, layer and epoch recorded in every run, the mean and the standard
deviation (ddof = 1) over runs of I(X;T) and I(T;Y). Single runs of binning estimators
vary a lot between seeds (Saxe et al. average 50 runs, Lorenzen et al. 50): the spread is
part of the result.
"""
import collections
import os
from typing import Dict, List, Sequence

import numpy as np
import tensorflow as tf

from tfib.infoplane import plotting, summaries
from tfib.infoplane.callback import RESULTS
from tfib.runs import atomic, tensorboard
from tfib.runs.journal import Journal, read_records


def mean_records(runs: Sequence[List[Dict]]) -> List[Dict]:
  """Records with the mean over ``runs`` in i_xt / i_ty and the spread in *_std; only
  points present in every run."""
  groups = collections.defaultdict(list)
  for records in runs:
    for record in records:
      groups[(record["estimator_label"], record["layer"], record["epoch"])].append(record)
  merged = []
  for (label, layer, epoch), points in sorted(groups.items()):
    if len(points) != len(runs):
      continue
    merged_record = dict(points[0], estimator_label=label, layer=layer, epoch=epoch,
                         num_runs=len(points))
    for key in ("i_xt", "i_ty"):
      values = [p[key] for p in points]
      if any(v is None for v in values):
        merged_record[key] = merged_record[f"{key}_std"] = None
        continue
      merged_record[key] = float(np.mean(values))
      merged_record[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    merged.append(merged_record)
  return merged


def aggregate_runs(run_dirs: Sequence[str], out_dir: str, title: str = "") -> Dict[str, str]:
  """Writes the mean plane of ``run_dirs`` to ``out_dir``: results file, TensorBoard
  scalars (mean under ``mi/``, spread under ``mi_std/``), one PNG per estimator. Returns
  estimator label → PNG path.

  The aggregate is derived, never resumed: it is computed afresh from every run given, in
  a staging directory that then replaces ``out_dir`` whole, so it always shows exactly
  these runs.
  """
  merged = mean_records([read_records(os.path.join(d, RESULTS)) for d in run_dirs])
  pngs = {}
  with atomic.rebuilt_directory(out_dir) as staging:
    Journal(os.path.join(staging, RESULTS), step_key="epoch").append(merged)
    writer = tf.summary.create_file_writer(staging)
    spread = [dict(r, i_xt=r["i_xt_std"], i_ty=r["i_ty_std"]) for r in merged]
    tensorboard.write_scalars(writer, summaries.record_points(merged)
                              + summaries.record_points(spread, prefix="mi_std"))
    for label in sorted({r["estimator_label"] for r in merged}):
      mine = [r for r in merged if r["estimator_label"] == label]
      png = plotting.information_plane(
          mine, title=f"{title}: {label}, mean ± sd of {len(run_dirs)} runs")
      atomic.write_bytes(os.path.join(staging, f"infoplane_{label}.png"), png)
      pngs[label] = os.path.join(out_dir, f"infoplane_{label}.png")
      tensorboard.write_png(writer, f"infoplane/{label}", png,
                            step=max(r["epoch"] for r in mine))
    writer.close()
  return pngs
