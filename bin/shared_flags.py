"""The flags several tfib programs share, defined and validated in one place.

Each program calls the ``define_*`` functions it needs at import, with its own defaults, so
the same setting has the same name, meaning and checks everywhere:

    run        --logdir, --overwrite, --force_resume, --on_corrupt_checkpoint
    training   --dataset, --epochs, --batch_size, --learning_rate, --optimizer, --seed
               (each also alone: `define_seed`, `define_batch_size`, ...)
    devices    --jit_compile, --strategy, --tpu, --num_cpu_devices

Numeric flags carry their bounds (absl refuses ``--epochs=0`` with a message naming the
flag), enums their choices; `run_options` turns the run flags into `tfib.runs.Run`
arguments.
"""
import sys
from typing import Callable, Dict, Optional, Sequence

from absl import app
from absl import flags
from absl import logging


from tfib.training.strategies import STRATEGIES

FLAGS = flags.FLAGS


def read_flagfile(path: str) -> Dict[str, str]:
  """{flag name: value as written} of a flagfile, read as absl reads it (comments skipped,
  nested --flagfile lines followed), for scripts that build a program's configuration from
  its flagfile (the benches)."""
  values = {}
  for argument in flags.FlagValues().read_flags_from_files([f"--flagfile={path}"],
                                                           force_gnu=True):
    name, _, value = argument.lstrip("-").partition("=")
    values[name] = value
  return values


def define_run_flags(default_logdir: str):
  flags.DEFINE_string("logdir", default_logdir,
                      "Run directory: TensorBoard logs, results, resume state (tensorboard "
                      "--logdir=<it> shows the run).")
  flags.DEFINE_bool("overwrite", False, "Delete the run in --logdir and start again.")
  flags.DEFINE_bool("force_resume", False,
                    "Continue the run in --logdir even though its configuration differs "
                    "(the manifest records the change).")
  flags.DEFINE_enum("on_corrupt_checkpoint", "fail", ["fail", "fall_back"],
                    "If the latest resume state is unreadable: stop with an error, or "
                    "continue from the newest readable one.")
  flags.register_multi_flags_validator(
      ["overwrite", "force_resume"], lambda values: not (values["overwrite"]
                                                         and values["force_resume"]),
      "--overwrite and --force_resume contradict each other.")


def run_program(main: Callable, module_name: str, description: str):
  """``app.run(main)`` with a ``--help`` that shows the program: its description and its
  own flags (those of ``module_name`` and the shared ones it defined), not only absl's
  "Try --helpfull". A console script's ``__main__`` is the wrapper pip writes, whose
  docstring and flags are empty; this gives it the program's."""
  main_module = sys.argv[0]
  for module in (module_name, __name__):
    for flag in FLAGS.get_flags_for_module(module):
      FLAGS.register_key_flag_for_module(main_module, flag)
  sys.modules["__main__"].__doc__ = description
  app.run(main)


def _not_checkpoint_chatter(record) -> bool:
  """Drops the INFO lines TensorFlow's checkpoint saver logs at every save."""
  return not (record.levelno <= logging.converter.STANDARD_INFO
              and record.pathname.endswith("functional_saver.py"))


def quiet_tensorflow():
  """Keeps TensorFlow's routine INFO lines out of a program's output."""
  logging.get_absl_logger().addFilter(_not_checkpoint_chatter)


def run_options() -> Dict[str, bool]:
  """The `tfib.runs.Run` keyword arguments of the run flags."""
  return {"overwrite": FLAGS.overwrite, "force_resume": FLAGS.force_resume,
          "fall_back": FLAGS.on_corrupt_checkpoint == "fall_back"}


def define_dataset(default: str, choices: Optional[Sequence[str]] = None):
  """--dataset: any name of `tfib.data.names()` (see `check_dataset`), or one of ``choices``."""
  if choices:
    flags.DEFINE_enum("dataset", default, list(choices), "Dataset.")
  else:
    flags.DEFINE_string("dataset", default, "Dataset (see tfib.data.names()).")


def define_seed(default: int = 0):
  flags.DEFINE_integer("seed", default, "Seed of the initialisation, data order and noise.")


def define_epochs(default: int):
  flags.DEFINE_integer("epochs", default, "Training epochs.", lower_bound=1)


def define_batch_size(default: int):
  flags.DEFINE_integer("batch_size", default, "Global batch size.", lower_bound=1)


def define_learning_rate(default: float):
  flags.DEFINE_float("learning_rate", default, "Learning rate.")
  flags.register_validator("learning_rate", lambda value: value is None or value > 0,
                           "--learning_rate must be positive.")


def define_optimizer(default: str):
  flags.DEFINE_enum("optimizer", default, ["adam", "sgd"], "Optimizer.")


def define_training_flags(*, dataset: str, epochs: int, batch_size: int,
                          learning_rate: float, optimizer: str,
                          datasets: Optional[Sequence[str]] = None, seed: int = 0):
  """--dataset, --epochs, --batch_size, --learning_rate, --optimizer and --seed."""
  define_dataset(dataset, datasets)
  define_epochs(epochs)
  define_batch_size(batch_size)
  define_learning_rate(learning_rate)
  define_optimizer(optimizer)
  define_seed(seed)


def define_jit_compile(default: bool):
  flags.DEFINE_bool("jit_compile", default, "Compile the training step with XLA.")


def define_device_flags(jit_compile: bool):
  """--jit_compile, --strategy, --tpu and --num_cpu_devices."""
  define_jit_compile(jit_compile)
  flags.DEFINE_enum("strategy", "default", list(STRATEGIES),
                    "tf.distribute strategy (see tfib.training.strategies).")
  flags.DEFINE_string("tpu", "", "For --strategy=tpu: TPU name or address (empty: local).")
  flags.DEFINE_integer("num_cpu_devices", 0,
                       "Split the CPU into this many logical devices (for --strategy=mirrored "
                       "on a machine without GPUs; 0: leave as is).", lower_bound=0)


def check_dataset():
  """Raises UsageError for a --dataset tfib does not know."""
  from absl import app  # pylint: disable=g-import-not-at-top
  from tfib import data  # pylint: disable=g-import-not-at-top  (numpy only)

  if FLAGS.dataset not in data.names():
    raise app.UsageError(f"Unknown dataset {FLAGS.dataset!r}; known: {', '.join(data.names())}.")


def make_strategy():
  """The tf.distribute strategy of --strategy (after --num_cpu_devices split the CPU)."""
  from absl import app  # pylint: disable=g-import-not-at-top
  from tfib.training import strategies  # pylint: disable=g-import-not-at-top

  if FLAGS.num_cpu_devices:
    try:
      strategies.split_cpu(FLAGS.num_cpu_devices)
    except RuntimeError as error:
      raise app.UsageError(f"--num_cpu_devices: {error}") from None
  return strategies.make_strategy(FLAGS.strategy, FLAGS.tpu)
