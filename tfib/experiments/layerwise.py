"""What ``tfib-layerwise`` runs: Elad et al.'s direct test of the IB principle.

Elad, Haviv, Blau & Michaeli ("Direct validation of the information bottleneck principle
for deep nets", 2019) train each layer alone on the IB Lagrangian, with no classification
loss, freeze it and go on (`tfib.training.layerwise_ib`), and compare the final accuracy with
the same network trained end to end on cross-entropy. Here, in one run: the end-to-end
network and, for every β of ``betas``, the layer-wise one, on the same data and with the
same epochs per parameter.

Measured, after each layer's training (layer-wise) and at the end (end to end), on the
first ``measure_samples`` held-out inputs, with one estimator independent of the training
objective — the KDE bounds of Kolchinsky & Tracey and Saxe et al. (`tfib.estimators.kde`)
at the training's noise variance σ²: I(X;T_σ) (upper bound; the lower in the results) and
I(T_σ;Y), in bits, with the ceilings log2 N and H(Y). Also the test accuracy (argmax of the
last layer's head on clean outputs, the same readout for both), each layer-wise head's
own accuracy, and the training seconds of each.

Layout of ``logdir``::

    manifest.json         the experiment (network, data); the βs are not part of it, so a
                          sweep can grow
    end_to_end/           the cross-entropy run (resumable; result.json when done)
    beta_<β>/             a layer-wise run per β (resumable; result.json when done;
                          TensorBoard: the objective's terms per layer and epoch, and
                          mi/kde/<layer>/I_XT|I_TY as each layer is finished)
    summary/              derived, rebuilt every time: summary.json, the comparison as a
                          TensorBoard text table, an hparams session per β, the figure
                          (accuracy against β, the β sweep's information planes) as PNG
                          and image
"""
import dataclasses
import json
import math
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfib.data import catalog
from tfib.estimators import kde
from tfib.infoplane import plotting
from tfib.runs import atomic, tensorboard
from tfib.runs.run import Run
from tfib.training import input_pipeline
from tfib.models.layer_stack import LayerStack
from tfib.training.layerwise_ib import (Diverged, LayerwiseConfig, train_end_to_end,
                                        train_layerwise)

__all__ = ["ExperimentConfig", "beta_name", "load_data", "run"]

PROGRAM = "tfib-layerwise"
RESULT = "result.json"
END_TO_END = "end_to_end"


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  network: LayerwiseConfig = LayerwiseConfig()
  dataset: str = "mnist5k"
  max_train_examples: int = 0      # 0: all.
  max_eval_examples: int = 0
  measure_samples: int = 1000      # Held-out inputs the KDE bounds are computed on.

  def __post_init__(self):
    if int(self.measure_samples) < 2:
      raise ValueError(f"measure_samples must be at least 2, got {self.measure_samples}.")

  def as_dict(self):
    return dataclasses.asdict(self)


def beta_name(beta: float) -> str:
  return f"beta_{beta:g}"


def check_betas(betas: Sequence[float]) -> Tuple[float, ...]:
  betas = tuple(float(b) for b in betas)
  if not betas:
    raise ValueError("Give at least one beta.")
  for beta in betas:
    if not (beta >= 0 and math.isfinite(beta)):
      raise ValueError(f"beta must be >= 0 and finite (the weight of the compression term), "
                       f"got {beta}.")
  if len(set(map(beta_name, betas))) != len(betas):
    raise ValueError(f"betas repeat: {list(betas)}.")
  return betas


Data = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Dict]


def load_data(config: ExperimentConfig, data_dir: Optional[str] = None) -> Data:
  """(train x, train y, test x, test y, facts): float32 images in [0, 1], int32 labels."""
  data = input_pipeline.load_image_data(config.dataset, data_dir, config.max_train_examples,
                                        config.max_eval_examples)
  return (catalog.to_float(data.train_images), data.train_labels,
          catalog.to_float(data.eval_images), data.eval_labels, data.facts())


def _measure(network: LayerStack, noise_std: float, x, y, upto: int, samples: int
             ) -> List[Dict]:
  """KDE bounds (bits) at σ² = ``noise_std``² of layers 1..upto on the first ``samples``
  held-out inputs."""
  estimator = kde.KDE(noise_variance=noise_std ** 2)
  x, y = x[:samples], y[:samples]
  found = []
  for index, t in enumerate(network.outputs(x, upto)):
    estimate = estimator.estimate(t.reshape(len(t), -1), y)
    found.append({"layer": network.names[index], "i_xt": estimate.i_xt,
                  "i_xt_lower": estimate.extras["i_xt_lower"], "i_ty": estimate.i_ty,
                  "log2_n": estimate.log2_n, "h_y": estimate.h_y})
  return found


def _head_accuracy(network: LayerStack, index: int, x, y) -> float:
  logits = network.head_logits(index, network.outputs(x, index + 1)[-1])
  return float((logits.argmax(axis=1) == y).mean())


def _subrun(logdir, name, config: ExperimentConfig, facts, run_options, beta=None) -> Run:
  run = Run(os.path.join(logdir, name), PROGRAM, **run_options)
  run.declare("experiment", config.as_dict())
  run.declare("data", facts)
  run.declare("training", {"regime": "end_to_end" if beta is None else "layerwise",
                           "beta": beta})
  return run


def _finish(run: Run, result: Dict) -> Dict:
  atomic.write_json(os.path.join(run.path, RESULT), result)
  return result


def _read(path: str) -> Optional[Dict]:
  if not os.path.exists(path):
    return None
  with open(path) as stream:
    return json.load(stream)


def _end_to_end(config, data, logdir, run_options, log) -> Dict:
  found = _read(os.path.join(logdir, END_TO_END, RESULT))
  if found is not None:
    return found
  x, y, x_test, y_test, facts = data
  network = config.network.network(x.shape[1:], facts["num_classes"])
  run = _subrun(logdir, END_TO_END, config, facts, run_options)
  log("end to end (cross-entropy): training")

  def on_done(step):
    return {"layers": _measure(network, config.network.noise_std, x_test, y_test,
                               len(network.layers), config.measure_samples)}
  try:
    seconds = train_end_to_end(config.network, network, x, y, run, on_done)
  except Diverged as error:
    return _finish(run, {"status": "diverged", "reason": str(error), "test_accuracy": None,
                         "layers": [], "train_seconds": None})
  layers = run.journal("layers.jsonl").records()[-1]["layers"]
  return _finish(run, {"status": "done", "reason": "",
                       "test_accuracy": float((network.predict(x_test) == y_test).mean()),
                       "layers": layers, "train_seconds": seconds})


def _layerwise(config, data, beta, logdir, run_options, log) -> Dict:
  name = beta_name(beta)
  found = _read(os.path.join(logdir, name, RESULT))
  if found is not None:
    return found
  x, y, x_test, y_test, facts = data
  network = config.network.network(x.shape[1:], facts["num_classes"])
  run = _subrun(logdir, name, config, facts, run_options, beta)
  log(f"layer-wise, beta = {beta:g}: training")
  writer = {}

  def on_layer_done(index, step):
    measured = _measure(network, config.network.noise_std, x_test, y_test, index + 1,
                        config.measure_samples)[-1]
    measured["head_accuracy"] = _head_accuracy(network, index, x_test, y_test)
    writer.setdefault("events", run.writer())
    tensorboard.write_scalars(writer["events"], [
        (f"mi/kde/{measured['layer']}/I_XT", measured["i_xt"], step),
        (f"mi/kde/{measured['layer']}/I_TY", measured["i_ty"], step),
        ("mi_ceiling/kde/I_XT", measured["log2_n"], step),
        ("mi_ceiling/kde/I_TY", measured["h_y"], step)])
    return measured

  try:
    seconds = train_layerwise(config.network, network, x, y, beta, run, on_layer_done)
  except Diverged as error:
    layers = [r for r in run.journal("layers.jsonl").records()]
    return _finish(run, {"status": "diverged", "reason": str(error), "beta": beta,
                         "test_accuracy": None, "layers": layers, "train_seconds": None})
  layers = run.journal("layers.jsonl").records()
  return _finish(run, {"status": "done", "reason": "", "beta": beta,
                       "test_accuracy": float((network.predict(x_test) == y_test).mean()),
                       "layers": layers, "train_seconds": seconds})


def run(config: ExperimentConfig, betas: Sequence[float], logdir: str, data: Data,
        run_options: Optional[Dict] = None, log: Callable[[str], None] = print) -> Dict:
  """Runs (or resumes) the end-to-end network and a layer-wise one per β; returns the
  summary (also written to ``<logdir>/summary``)."""
  betas = check_betas(betas)
  run_options = dict(run_options or {})
  experiment = Run(logdir, PROGRAM, **run_options)
  experiment.declare("experiment", config.as_dict())
  experiment.declare("data", data[4])
  experiment.open()
  run_options.pop("overwrite", None)  # The experiment's overwrite cleared the sub-runs.
  results = {END_TO_END: _end_to_end(config, data, logdir, run_options, log)}
  for beta in betas:
    results[beta_name(beta)] = _layerwise(config, data, beta, logdir, run_options, log)
  return _summarise(config, betas, results, logdir)


def _summarise(config, betas, results, logdir) -> Dict:
  baseline = results[END_TO_END]
  sweep = [(beta, results[beta_name(beta)]) for beta in betas]
  done = [(beta, r) for beta, r in sweep if r["test_accuracy"] is not None]
  best = max(done, key=lambda item: item[1]["test_accuracy"], default=None)
  gap = (None if best is None or baseline["test_accuracy"] is None else
         100.0 * (baseline["test_accuracy"] - best[1]["test_accuracy"]))
  summary = {"end_to_end": baseline, "layerwise": {beta_name(b): r for b, r in sweep},
             "betas": list(betas), "best_beta": None if best is None else best[0],
             "gap_points": gap, "noise_std": config.network.noise_std}
  with atomic.rebuilt_directory(os.path.join(logdir, "summary")) as staging:
    atomic.write_json(os.path.join(staging, "summary.json"), summary)
    png = plotting.beta_sweep_figure(summary)
    atomic.write_bytes(os.path.join(staging, "layerwise.png"), png)
    writer = tf.summary.create_file_writer(staging)
    tensorboard.write_png(writer, "layerwise/figure", png, step=0)
    with writer.as_default():
      tf.summary.text("layerwise/comparison", comparison_table(summary), step=0)
    writer.close()
    for beta, result in sweep:
      session = tf.summary.create_file_writer(os.path.join(staging, beta_name(beta)))
      tensorboard.write_hparams(session, {"beta": beta, "noise_std": config.network.noise_std,
                                          "layers": ",".join(config.network.layers)},
                                metrics=["layerwise/test_accuracy"])
      if result["test_accuracy"] is not None:
        tensorboard.write_scalars(session, [("layerwise/test_accuracy",
                                             result["test_accuracy"], 0)])
      session.close()
  return summary


def _cell(value, digits=3):
  return "—" if value is None else f"{value:.{digits}f}"


def comparison_table(summary: Dict) -> str:
  """The comparison as a Markdown table: one row per regime, then its layers; an I(X;T_σ)
  pinned at its ceiling log2 N (`plotting.at_ceiling`) says so beside the number."""
  rows = ["| training | test accuracy | seconds | layer | I(X;T_σ) [bits] | I(T_σ;Y) [bits] |",
          "|---|---|---|---|---|---|"]
  regimes = [("end to end (cross-entropy)", summary["end_to_end"])] + [
      (f"layer-wise, β = {r['beta']:g}", r) for r in summary["layerwise"].values()]
  for name, result in regimes:
    head = (f"{name}" + ("" if result["status"] == "done" else f" ({result['status']})"))
    accuracy = _cell(result["test_accuracy"], 4)
    seconds = _cell(result["train_seconds"], 1)
    layers = result["layers"] or [{"layer": "—", "i_xt": None, "i_ty": None}]
    for index, layer in enumerate(layers):
      i_xt = _cell(layer["i_xt"])
      if layer["i_xt"] is not None and plotting.at_ceiling(layer):
        i_xt += f" (at log2 N = {layer['log2_n']:.3f}: cannot show compression)"
      rows.append(f"| {head if index == 0 else ''} | {accuracy if index == 0 else ''} | "
                  f"{seconds if index == 0 else ''} | {layer['layer']} | "
                  f"{i_xt} | {_cell(layer['i_ty'])} |")
  return "\n".join(rows)
