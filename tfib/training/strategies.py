"""tf.distribute strategies by name, for `tfib-train --strategy`.

  default       one device (the first GPU if any, else the CPU).
  mirrored      synchronous data parallelism on the GPUs of this machine; on a machine
                without GPUs, on its logical CPU devices (see `split_cpu`), which is how
                tests run it on two CPU "devices".
  multi_worker  MultiWorkerMirroredStrategy over the machines named in the TF_CONFIG
                environment variable (every worker runs the same command).
  tpu           TPUStrategy on the TPU named by ``tpu`` (empty: the local TPU VM).
"""
import json
import os
from typing import Optional

__all__ = ["STRATEGIES", "is_chief", "make_strategy", "split_cpu", "worker_id"]

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def split_cpu(num_devices: int):
  """Splits the first CPU into ``num_devices`` logical devices.

  Must run before TensorFlow initialises its devices (before any op runs); raises
  RuntimeError otherwise.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top  (the module is read without TF)

  if num_devices < 1:
    raise ValueError(f"num_devices must be positive, got {num_devices}.")
  cpu = tf.config.list_physical_devices("CPU")[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)])


def make_strategy(name: str, tpu: Optional[str] = None):
  """The tf.distribute strategy called ``name`` (one of STRATEGIES)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    if tf.config.list_logical_devices("GPU"):
      return tf.distribute.MirroredStrategy()
    cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus)
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == "tpu":
    try:
      resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
      tf.config.experimental_connect_to_cluster(resolver)
      tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
      raise RuntimeError(f"No TPU found ({tpu or 'local'}): {error}") from error
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def _task():
  config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
  task = config.get("task", {})
  return task.get("type"), int(task.get("index", 0)), config.get("cluster", {})


def is_chief(strategy) -> bool:
  """Whether this process writes the run directory (the chief, or worker 0 without one)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return True
  task_type, task_id, cluster = _task()
  if task_type in (None, "chief"):
    return True
  return task_type == "worker" and task_id == 0 and "chief" not in cluster


def worker_id() -> str:
  task_type, task_id, _ = _task()
  return f"{task_type or 'worker'}-{task_id}"
