"""Where --mixed_precision=auto takes bfloat16: the CPU flags it reads and the rule."""
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


@pytest.mark.parametrize("text, pays", [
    (CPUINFO, True),
    (CPUINFO.replace(" amx_tile amx_bf16", ""), False),  # AVX512-BF16 without AMX: slower.
    ("flags\t: fpu sse2 avx2\n", False),
])
def test_without_gpus_bfloat16_pays_only_with_amx(monkeypatch, text, pays):
  monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
  _cpuinfo(monkeypatch, text)
  assert precision.bfloat16_pays() is pays
