"""Where bfloat16 is worth timing: the CPU flags read and the hardware rule."""
import builtins
import io

import pytest
import tensorflow as tf

from tfib.training import precision

CPUINFO = ("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile amx_bf16 amx_int8\n"
           "processor\t: 1\nflags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile amx_bf16 amx_int8\n")


def _cpuinfo(monkeypatch, text):
  real_open = builtins.open

  def fake_open(path, *args, **kwargs):
    if path == "/proc/cpuinfo":
      if text is None:
        raise FileNotFoundError(path)
      return io.StringIO(text)
    return real_open(path, *args, **kwargs)

  monkeypatch.setattr(builtins, "open", fake_open)


def test_the_cpu_flags_are_read_from_cpuinfo(monkeypatch):
  _cpuinfo(monkeypatch, CPUINFO)
  assert precision.cpu_bfloat16_features() == ("amx_bf16", "amx_tile", "avx512_bf16")
  _cpuinfo(monkeypatch, None)
  assert precision.cpu_bfloat16_features() == ()


@pytest.mark.parametrize("text, hardware", [
    (CPUINFO, True),
    (CPUINFO.replace(" amx_tile amx_bf16", ""), True),  # AVX512-BF16 without AMX.
    (CPUINFO.replace(" avx512_bf16", ""), True),  # AMX alone.
    ("flags\t: fpu sse2 avx2\n", False),  # Emulated.
    (None, False),  # No /proc/cpuinfo.
])
def test_without_gpus_bfloat16_hardware_is_read_from_the_cpu(monkeypatch, text, hardware):
  monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
  _cpuinfo(monkeypatch, text)
  assert precision.bfloat16_hardware() is hardware


@pytest.mark.parametrize("capabilities, hardware", [
    ([(8, 0)], True), ([(9, 0), (8, 6)], True), ([(8, 0), (7, 5)], False), ([None], False)])
def test_with_gpus_every_gpu_needs_bfloat16_tensor_cores(monkeypatch, capabilities, hardware):
  gpus = [f"GPU:{i}" for i in range(len(capabilities))]
  monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus)
  details = {gpu: {} if c is None else {"compute_capability": c}
             for gpu, c in zip(gpus, capabilities)}
  monkeypatch.setattr(tf.config.experimental, "get_device_details", details.__getitem__)
  _cpuinfo(monkeypatch, CPUINFO)  # The CPU does not count where there are GPUs.
  assert precision.bfloat16_hardware() is hardware
