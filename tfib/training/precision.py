"""Where mixed bfloat16 pays for the PixelCNN++ decoders, by the hardware at hand.

bfloat16 keeps float32's exponent range, so it needs no loss scaling; the decoders keep
float32 weights and the mixture likelihood in float32 (`tfib.distributions.pixelcnn_network`)
and bfloat16 moves their bits/dim by less than 0.001 (bench/bench_decoder_mi.py). Whether it
is faster depends on the hardware, measured with bench/bench_decoder_mi.py on the quick
decoder configuration (training steps per second, bfloat16 against float32, plain graph):

* a Xeon with AVX512-BF16 and AMX (amx_bf16, amx_tile): 1.27x;
* a Xeon with AVX512-BF16 but no AMX: 0.71x (oneDNN's float32 convolutions win);
* an AMD EPYC with AVX512-BF16 and no AMX (2 cores of a cloud machine): 0.91x in one run,
  1.16-1.22x in runs hours later (interleaved rounds, one and two threads): it moves with
  the host, so `bfloat16_pays` leaves such CPUs at float32;
* NVIDIA GPUs of compute capability 8.0 and above have bfloat16 tensor cores (expected to
  pay; not measured in this project).
"""
from typing import Tuple

__all__ = ["bfloat16_pays", "cpu_bfloat16_features"]


def cpu_bfloat16_features() -> Tuple[str, ...]:
  """The CPU's bfloat16 features named in /proc/cpuinfo (Linux; empty elsewhere)."""
  try:
    with open("/proc/cpuinfo") as stream:
      flags = set(stream.read().split())
  except OSError:
    return ()
  return tuple(sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "amx_tile")))


def bfloat16_pays() -> bool:
  """True on GPUs that all have bfloat16 tensor cores, and without GPUs on a CPU with AMX
  (see the module docstring)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  gpus = tf.config.list_physical_devices("GPU")
  if gpus:
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability")
                    for gpu in gpus]
    return all(c is not None and c >= (8, 0) for c in capabilities)
  return "amx_bf16" in cpu_bfloat16_features()
