"""The InformationPlane callback: I(X;T) and I(T;Y) of chosen layers while a model trains."""
import math
import os
import time
from typing import Dict, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tfib import estimators as estimators_lib
from tfib.infoplane import plotting, summaries
from tfib.layers.capture import activation_model
from tfib.layers.fake_quant import FakeQuant
from tfib.runs import atomic, fingerprints, tensorboard
from tfib.runs.crash_points import crash_point
from tfib.runs.run import Run

__all__ = ["InformationPlane", "RESULTS", "estimator_labels"]

RESULTS = "results.jsonl"  # The results journal of a run: one record per (estimator, layer, epoch).
DIAGNOSTICS = "diagnostics.jsonl"  # One record per (layer, epoch), with `diagnostics`.
EstimatorsArg = Union[Sequence, Mapping[str, object]]


def estimator_labels(estimators: EstimatorsArg) -> Dict[str, estimators_lib.base.Estimator]:
  """Names each estimator for tags and files: its registry name, made unique if repeated.

  Accepts estimator objects, spec strings ("binning:scheme=saxe") or a dict label → estimator.
  """
  if isinstance(estimators, Mapping):
    return dict(estimators)
  built = [estimators_lib.from_spec(e) if isinstance(e, str) else e for e in estimators]
  if not built:
    raise ValueError("Give at least one estimator.")
  labels = {}
  for estimator in built:
    label = estimator.name
    if sum(e.name == estimator.name for e in built) > 1:
      label = "_".join([estimator.name] + [str(v) for v in estimator.params.values()])
    if label in labels:
      raise ValueError(f"Two estimators would share the label {label!r}.")
    labels[label] = estimator
  return labels


class InformationPlane(keras.callbacks.Callback):
  """Records I(X;T) and I(T;Y) of chosen layers at scheduled epochs of ``model.fit``.

  Epoch k means "after k epochs": 0 is the network as initialised (recorded when training
  begins), ``epochs`` = E the trained network (`tfib.infoplane.schedules`). At each epoch in
  ``epochs`` the named layers are evaluated on ``x`` and every estimator is applied to each
  layer. Results go into the run directory:

  * TensorBoard scalars ``mi/<estimator>/<layer>/I_XT`` and ``I_TY`` (step = epoch);
  * the results journal ``results.jsonl`` (JSON lines; every value of every record);
  * once the last epoch is trained, an information-plane image per estimator, in TensorBoard
    under ``infoplane/<estimator>`` and as ``infoplane_<estimator>.png``.

  The run directory records what it holds — the layers, estimators, schedule, a fingerprint
  of ``x`` and ``y`` and of the model — and refuses another experiment with the list of
  differences. With no resume state (no `tfib.callbacks.RunCheckpoint` in the same run) each
  ``fit`` starts the run afresh: the results of an earlier ``fit`` of the same experiment are
  replaced, never mixed with the new ones. With one, a killed run continues where its last
  resume state was committed and writes every point once.

  Args:
    layers: names of the layers of the model to analyse.
    x: inputs [N, ...] on which the layers are evaluated (the whole distribution of X).
    y: integer labels [N] (or one-hot rows) for I(T;Y); None for I(X;T) only.
    estimators: estimators, spec strings or a dict label → estimator.
    epochs: the epochs to record at (see `tfib.infoplane.schedules`).
    logdir: the run directory, for a run of this callback alone; or
    run: the `tfib.runs.Run` it shares with other callbacks (a `RunCheckpoint`).
    inputs_distinct: if False, I(X;T) = H(T) − H(T|X) with X read from ``x``; if True
      (inputs known to be distinct) H(T|X) = 0 is not computed.
    diagnostics: a `tfib.infoplane.diagnostics.LayerDiagnostics`, measured on every layer
      at every recorded epoch into ``diagnostics.jsonl`` and TensorBoard
      (``diagnostics/<layer>/<name>``).
    verbose: 1 (default) says what the callback records while ``fit`` runs — when it
      starts, a line per recording at most every 10 seconds (and the last), and the time
      each estimator took at the end; 0 is silent (a program showing its own progress
      reads `latest` instead).
    batch_size: batch size for evaluating the layers. A model with quantizers
      (`tfib.layers.FakeQuant`) is evaluated on all N inputs at once whatever this says:
      its counts must not depend on how the inputs are batched — a grid taken from the
      batch is the grid of all N inputs, as Lorenzen et al. define it, and even a fixed grid
      would see a value one rounding error from a level boundary land on either side
      depending on the batch's matrix-product blocking.
  """

  def __init__(self, layers: Sequence[str], x, y, estimators: EstimatorsArg, epochs,
               logdir: Optional[str] = None, run: Optional[Run] = None,
               inputs_distinct: bool = True, batch_size: int = 8192, diagnostics=None,
               verbose: int = 1):
    super().__init__()
    if (logdir is None) == (run is None):
      raise ValueError("Give the callback either a logdir or a run.")
    self.layer_names = list(layers)
    if not self.layer_names:
      raise ValueError("Name at least one layer to analyse.")
    self.x = np.asarray(x)
    self.y = None if y is None else np.asarray(y)
    if len(self.x) == 0:
      raise ValueError("x is empty: the information plane needs at least one input.")
    if self.y is not None and len(self.y) != len(self.x):
      raise ValueError(f"label count mismatch: {len(self.y)} labels for {len(self.x)} inputs.")
    self.estimators = estimator_labels(estimators)
    self.epochs = sorted({int(e) for e in epochs})
    if not self.epochs or self.epochs[0] < 0:
      raise ValueError(f"epochs must be non-negative epoch counts, got {list(epochs)[:5]}...")
    self.run = run or Run(logdir, program="model.fit")
    self.inputs_distinct = inputs_distinct
    self.batch_size = int(batch_size)
    self.seconds = 0.0  # Time spent recording, for reports and benchmarks.
    self.seconds_by_estimator = {label: 0.0 for label in self.estimators}
    self.diagnostics = diagnostics
    self.verbose = int(verbose)
    self.latest = []  # The records of the latest recording.
    self._last_report = -math.inf
    self._warned = set()
    self._activations = None
    self._results = None
    self._began = False
    self.run.declare("information_plane", {
        "layers": self.layer_names,
        "estimators": {label: {"name": e.name, "params": _jsonable_params(e)}
                       for label, e in self.estimators.items()},
        "epochs": self.epochs, "inputs_distinct": bool(inputs_distinct),
        "x": fingerprints.array_fingerprint(self.x),
        "y": None if self.y is None else fingerprints.array_fingerprint(self.y)})

  @property
  def logdir(self) -> str:
    return self.run.path

  @property
  def results_path(self) -> str:
    return os.path.join(self.run.path, RESULTS)

  def set_model(self, model):
    super().set_model(model)
    self.run.declare("model", fingerprints.model_fingerprint(model))

  def on_train_begin(self, logs=None):
    activations = activation_model(self.model, self.layer_names)
    self._activations = tf.function(lambda x: activations(x, training=False),
                                    reduce_retracing=True)
    resumed = self.run.start()
    self._results = self.run.journal(RESULTS, step_key="epoch")
    self._diagnostics = (None if self.diagnostics is None
                         else self.run.journal(DIAGNOSTICS, step_key="epoch"))
    if self._began:  # A further fit of the same run in this process.
      return
    self._began = True
    self._say(f"information plane: I(X;T) and I(T;Y) of {len(self.layer_names)} layers "
              f"({', '.join(self.layer_names)}) with {', '.join(self.estimators)} at "
              f"{len(self.epochs)} epochs, into {self.run.path}")
    if resumed is None:  # A new run: what belongs to its step 0.
      summaries.write_layout(self.run.writer(), self.estimators, self.layer_names)
      if 0 in self.epochs:
        self.record(0)

  def on_epoch_end(self, epoch, logs=None):
    done = epoch + 1
    if done in self.epochs:
      self.record(done)
    if done == self.params.get("epochs"):
      self.write_images()

  def on_train_end(self, logs=None):
    self.run.writer().flush()
    if self.seconds:
      times = ", ".join(f"{label} {seconds:.1f} s"
                        for label, seconds in self.seconds_by_estimator.items())
      self._say(f"information plane: {self.seconds:.1f} s recording ({times})")

  def describe_latest(self) -> str:
    """The latest recording in one line: its epoch and each layer's I(X;T)/I(T;Y) (bits)
    for the first estimator."""
    if not self.latest:
      return ""
    label = self.latest[0]["estimator_label"]
    values = " ".join(
        f"{r['layer']} {r['i_xt']:.2f}/{'-' if r['i_ty'] is None else format(r['i_ty'], '.2f')}"
        + ("!" if r.get("failed") else "")
        for r in self.latest if r["estimator_label"] == label)
    return f"epoch {self.latest[0]['epoch']} {label} I(X;T)/I(T;Y): {values}"

  def _say(self, text: str):
    if self.verbose:
      print(text, flush=True)

  def record(self, epoch: int):
    """Estimates and writes every (estimator, layer) pair at ``epoch``."""
    start = time.perf_counter()
    activations = self._evaluate()
    inputs = None if self.inputs_distinct else self.x
    records = []
    for label, estimator in self.estimators.items():
      began = time.perf_counter()
      for layer in self.layer_names:
        try:
          estimate = estimator.estimate(activations[layer], self.y, inputs)
        except ValueError as error:
          raise ValueError(f"Layer {layer!r} at epoch {epoch}: {error}") from error
        records.append(dict(estimate.as_dict(), estimator_label=label, layer=layer,
                            epoch=epoch))
        crash_point("information_plane")
      self.seconds_by_estimator[label] += time.perf_counter() - began
    self._results.append(records)
    points = summaries.record_points(records)
    if self.diagnostics is not None:
      measured = [dict(self.diagnostics.measure(layer, activations[layer], epoch), layer=layer,
                       epoch=epoch) for layer in self.layer_names]
      self._diagnostics.append(measured)
      points += summaries.diagnostic_points(measured)
    tensorboard.write_scalars(self.run.writer(), points)
    self.run.writer().flush()
    self.seconds += time.perf_counter() - start
    self.latest = records
    self._report(records)

  def _report(self, records):
    """A line per recording (at most every 10 s, and the last); each caveat once."""
    for record in records:
      for flag, reason in (record.get("flags") or {}).items():
        if (record["estimator_label"], flag) not in self._warned:
          self._warned.add((record["estimator_label"], flag))
          self._say(f"information plane: {record['estimator_label']} at layer "
                    f"{record['layer']}: {reason}")
    now = time.monotonic()
    if now - self._last_report >= 10.0 or records[0]["epoch"] == self.epochs[-1]:
      self._last_report = now
      self._say(f"information plane: {self.describe_latest()}")

  def write_images(self):
    """Draws the information plane of each estimator from the results journal."""
    records = self._results.records()
    for label in self.estimators:
      mine = [r for r in records if r["estimator_label"] == label]
      if not mine:
        continue
      png = plotting.information_plane(mine, title=f"{self.model.name}: {label}")
      if self.run.chief:
        atomic.write_bytes(os.path.join(self.run.path, f"infoplane_{label}.png"), png)
      tensorboard.write_png(self.run.writer(), f"infoplane/{label}", png,
                            step=max(r["epoch"] for r in mine))

  def _evaluate(self) -> Dict[str, np.ndarray]:
    outputs = []
    batch_size = len(self.x) if _quantized(self.model) else self.batch_size
    for start in range(0, len(self.x), batch_size):
      batch = self._activations(self.x[start:start + batch_size])
      outputs.append([t.numpy() for t in (batch if isinstance(batch, (list, tuple))
                                          else [batch])])
    return {name: np.concatenate([batch[i] for batch in outputs])
            for i, name in enumerate(self.layer_names)}


def _quantized(model) -> bool:
  """Whether the model quantizes activations (then counts must see one batch of all N)."""
  return any(isinstance(layer, FakeQuant) and layer.bits < 32
             for layer in model._flatten_layers())  # pylint: disable=protected-access


def _jsonable_params(estimator) -> Dict:
  """The estimator's parameters as JSON values (a user critic is named, not embedded)."""
  record = getattr(estimator, "_record_params", None)
  return record() if record else dict(estimator.params)
