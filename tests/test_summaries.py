"""tfib.summaries: hparams are written once per log directory, whatever the values."""
from tensorboard.plugins.hparams.metadata import SESSION_START_INFO_TAG

from tfib import summaries


def test_hparams_are_written_once_per_logdir(tmp_path):
  logdir = str(tmp_path)
  settings = {"estimator": "mine", "batch_size": 256, "hidden_units": (256, 256),
              "jit_compile": True, "learning_rate": 1e-3}
  summaries.write_hparams(logdir, settings)
  summaries.write_hparams(logdir, dict(settings, batch_size=128))  # A resumed run.
  tags = [tag for tag, _ in summaries.written_points(logdir)]
  assert tags.count(SESSION_START_INFO_TAG) == 1
