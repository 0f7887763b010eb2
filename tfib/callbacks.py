"""Keras callbacks: the information plane of a model while it trains."""
import os
import time
from typing import Dict, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tfib import estimators as estimators_lib
from tfib import plotting
from tfib import summaries
from tfib.layers.capture import activation_model
from tfib.results import ResultsFile, read_records

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
  """Records I(X;T) and I(T;Y) of chosen layers at the start of scheduled epochs.

  At the start of each epoch in ``epochs`` (and at the end of training if ``epochs``
  contains the total epoch count), the named layers are evaluated on ``x`` and every
  estimator is applied to each layer. Results go to

  * TensorBoard scalars ``mi/<estimator>/<layer>/I_XT`` and ``I_TY`` under ``logdir``;
  * the results file ``results_path`` (JSON lines; all values, all epochs);
  * at the end of training an information-plane image per estimator, in TensorBoard under
    ``infoplane/<estimator>`` and as ``infoplane_<estimator>.png`` in ``logdir``.

  Args:
    layers: names of the layers of the model to analyse.
    x: inputs [N, ...] on which the layers are evaluated (the whole distribution of X).
    y: integer labels [N] (or one-hot) for I(T;Y).
    estimators: estimators, spec strings or a dict label → estimator.
    epochs: the epochs to record at (see `tfib.schedules`).
    logdir: TensorBoard log directory; also where the PNGs go.
    results_path: JSON-lines results file (default ``<logdir>/results.jsonl``).
    inputs_distinct: if False, I(X;T) = H(T) − H(T|X) with X read from ``x``; if True
      (inputs known to be distinct) H(T|X) = 0 is not computed.
    batch_size: batch size for evaluating the layers.
    writer: an `ExactlyOnceWriter` on ``logdir`` shared with other callbacks (default: one
      of its own, opened when training begins).
  """

  def __init__(self, layers: Sequence[str], x, y, estimators: EstimatorsArg, epochs,
               logdir: str, results_path: Optional[str] = None, inputs_distinct: bool = True,
               batch_size: int = 8192,
               writer: Optional[summaries.ExactlyOnceWriter] = None):
    super().__init__()
    self.layer_names = list(layers)
    self.x = np.asarray(x)
    self.y = None if y is None else np.asarray(y)
    if self.y is not None and len(self.y) != len(self.x):
      raise ValueError(f"label count mismatch: {len(self.y)} labels for {len(self.x)} inputs.")
    if len(self.x) == 0:
      raise ValueError("x is empty: the information plane needs at least one input.")
    self.estimators = estimator_labels(estimators)
    self.epochs = {int(e) for e in epochs}
    self.logdir = logdir
    self.results = ResultsFile(results_path or os.path.join(logdir, "results.jsonl"))
    self.inputs_distinct = inputs_distinct
    self.batch_size = batch_size
    self.seconds = 0.0  # Time spent recording, for reports and benchmarks.
    self._shared_writer = writer
    self._writer = None
    self._activations = None

  def on_train_begin(self, logs=None):
    activations = activation_model(self.model, self.layer_names)
    self._activations = tf.function(lambda x: activations(x, training=False),
                                    reduce_retracing=True)
    self._writer = self._shared_writer or summaries.ExactlyOnceWriter(self.logdir)
    self._writer.layout(self.estimators)
    # A resumed run: points in the results file whose events were lost with the process.
    self._writer.scalars(summaries.record_points(read_records(self.results.path)))
    self._writer.flush()

  def on_epoch_begin(self, epoch, logs=None):
    if epoch in self.epochs:
      self.record(epoch)

  def on_train_end(self, logs=None):
    last = max(self.epochs, default=-1)
    done = self.params.get("epochs", 0) if self.params else 0
    if last == done:
      self.record(last)
    self.write_images()
    self._writer.flush()

  def record(self, epoch: int):
    """Estimates and writes all (estimator, layer) pairs at ``epoch`` not yet recorded."""
    start = time.perf_counter()
    pending = [(label, layer) for label in self.estimators for layer in self.layer_names
               if (label, layer, epoch) not in self.results]
    if not pending:
      return
    activations = self._evaluate()
    inputs = None if self.inputs_distinct else self.x
    records = []
    for label, layer in pending:
      try:
        estimate = self.estimators[label].estimate(activations[layer], self.y, inputs)
      except ValueError as error:
        raise ValueError(f"Layer {layer!r} at epoch {epoch}: {error}") from error
      records.append(dict(estimate.as_dict(), estimator_label=label, layer=layer, epoch=epoch))
    # The results file first: on a resume, what it holds is (re)written to TensorBoard.
    self.results.append(records)
    self._writer.scalars(summaries.record_points(records))
    self._writer.flush()
    self.seconds += time.perf_counter() - start

  def write_images(self):
    """Draws the information plane of each estimator from the results file."""
    records = read_records(self.results.path)
    for label in self.estimators:
      mine = [r for r in records if r["estimator_label"] == label]
      if not mine:
        continue
      png = plotting.information_plane(
          mine, title=f"{self.model.name}: {label}",
          path=os.path.join(self.logdir, f"infoplane_{label}.png"))
      self._writer.png(f"infoplane/{label}", png, step=max(r["epoch"] for r in mine))

  def _evaluate(self) -> Dict[str, np.ndarray]:
    outputs = []
    for start in range(0, len(self.x), self.batch_size):
      batch = self._activations(self.x[start:start + self.batch_size])
      outputs.append([t.numpy() for t in (batch if isinstance(batch, (list, tuple))
                                          else [batch])])
    return {name: np.concatenate([batch[i] for batch in outputs])
            for i, name in enumerate(self.layer_names)}
