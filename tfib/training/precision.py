"""Where mixed bfloat16 can pay for the PixelCNN++ decoders: hardware with bfloat16 arithmetic.

bfloat16 keeps float32's exponent range, so it needs no loss scaling; the decoders keep
float32 weights and the mixture likelihood in float32 (`tfib.distributions.pixelcnn_network`)
and bfloat16 moves their bits/dim by less than 0.001 (bench/bench_decoder_mi.py). Whether it
is faster depends on more than the instructions, measured with bench/bench_decoder_mi.py on
the quick decoder configuration (training steps per second, bfloat16 against float32, plain
graph):

* a Xeon with AVX512-BF16 and AMX (amx_bf16, amx_tile): 1.27x;
* a Xeon with AVX512-BF16 but no AMX: 0.71x (oneDNN's float32 convolutions win);
* an AMD EPYC with AVX512-BF16 and no AMX (2 cores of a cloud machine): 0.91x to 1.51x on
  different days (1.14-1.30x in interleaved rounds, one and two threads);
* NVIDIA GPUs of compute capability 8.0 and above have bfloat16 tensor cores.

So the hardware only says where bfloat16 is worth timing: `tfib.training.fastest_step` times
it against float32 on the device at hand.
"""
from typing import Tuple

__all__ = ["bfloat16_hardware", "cpu_bfloat16_features"]


def cpu_bfloat16_features() -> Tuple[str, ...]:
  """The CPU's bfloat16 features named in /proc/cpuinfo (Linux; empty elsewhere)."""
  try:
    with open("/proc/cpuinfo") as stream:
      flags = set(stream.read().split())
  except OSError:
    return ()
  return tuple(sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "amx_tile")))


def bfloat16_hardware() -> bool:
  """True where bfloat16 arithmetic is in hardware: GPUs that all have bfloat16 tensor
  cores (compute capability 8.0 and above), and without GPUs a CPU with AVX512-BF16 or AMX.
  Elsewhere bfloat16 is emulated, and slower than float32."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  gpus = tf.config.list_physical_devices("GPU")
  if gpus:
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability")
                    for gpu in gpus]
    return all(c is not None and c >= (8, 0) for c in capabilities)
  return bool({"avx512_bf16", "amx_bf16"} & set(cpu_bfloat16_features()))
