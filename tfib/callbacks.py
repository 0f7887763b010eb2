"""Keras callbacks of tfib, for a user's own ``model.fit``.

* `InformationPlane` — I(X;T) and I(T;Y) of chosen layers at scheduled epochs.
* `RunCheckpoint` — the resume state: killed and run again, training continues where it
  was and every point is written once (`tfib.runs`).
* `TrainingScalars` — the training logs of each epoch, in the run's TensorBoard files.
"""
from tfib.infoplane.callback import InformationPlane
from tfib.runs.keras_callbacks import RunCheckpoint, TrainingScalars

__all__ = ["InformationPlane", "RunCheckpoint", "TrainingScalars"]
