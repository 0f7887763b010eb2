"""Writing to TensorBoard: scalars, PNG images and hparams, the way every tfib program does.

Scalars are written with `tf.summary.write` and the scalar plugin's metadata (what
`tf.summary.scalar` does, without a traced function per writer), so writing many tags costs
no retracing. Each call writes through the writer it is given (a run's `Run.writer`).
"""
import functools
from typing import Mapping, Sequence, Tuple

import tensorflow as tf

__all__ = ["write_hparams", "write_png", "write_scalars"]


@functools.lru_cache(maxsize=1)
def _scalar_metadata():
  from tensorboard.plugins.scalar import metadata  # pylint: disable=g-import-not-at-top
  return metadata.create_summary_metadata(display_name=None, description=None)


def write_scalars(writer, points: Sequence[Tuple[str, float, int]]):
  """Writes (tag, value, step) points."""
  with writer.as_default():
    for tag, value, step in points:
      tf.summary.write(tag, tf.constant(float(value), tf.float32), step=int(step),
                       metadata=_scalar_metadata())


def write_png(writer, tag: str, png: bytes, step: int, description: str = ""):
  """Writes an encoded PNG as an image summary."""
  with writer.as_default():
    tf.summary.image(tag, tf.image.decode_png(png, channels=4)[tf.newaxis], step=int(step),
                     description=description or None)


def write_hparams(writer, settings: Mapping, metrics: Sequence[str] = ()):
  """Records a run's settings (and the metric tags to show beside them) in the hparams
  dashboard; write it once, at the run's first step."""
  from tensorboard.plugins.hparams import api as hparams  # pylint: disable=g-import-not-at-top

  values = {key: value if isinstance(value, (bool, int, float, str)) else str(value)
            for key, value in settings.items()}
  with writer.as_default():
    if metrics:
      hparams.hparams_config(hparams=[hparams.HParam(k) for k in values],
                             metrics=[hparams.Metric(tag) for tag in metrics])
    hparams.hparams(values, trial_id=None)
