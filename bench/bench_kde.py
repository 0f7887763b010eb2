"""Speed and memory of the tiled KDE estimator against the full-matrix numpy computation.

Contenders, each run in its own fresh Python process, all in this run:

  tiled     tfib.estimators.get("kde").estimate(activations, labels): tiles of 1,024 x 1,024
            distances streamed through one XLA-compiled loop (float64 distances, float32
            exponentials), the N x N matrix never stored. The first call compiles (once per
            N and layer width, so once per layer in an information-plane run); the target
            is judged on the second call, and the first is printed too.
  numpy     the same four numbers from the full N x N float64 matrix, written as one would
            in numpy (Gram-matrix distances, in-place exponentials, sums of each row and of
            each class's sub-matrix; no logsumexp temporaries, as the row maximum is the
            known self-term 1). One call.

Memory, the same method for both: peak resident set size (VmHWM in /proc/self/status) of the
worker process over its calls (for tiled both, compilation included) minus its resident
size just before them, after imports and data generation; the peak is reset first through
/proc/self/clear_refs. That counts every allocation the calls touch — numpy's arrays,
TensorFlow's tensors, XLA's compiler and buffers — and nothing that existed before.
(tracemalloc would see numpy's arrays but not TensorFlow's, so it cannot compare the two.)

Data: a ReLU layer-like set of activations, 10 classes, each a cluster of points with spread
comparable to the noise (so both bounds are far from 0 and from log2 N and the numbers mean
something); float32 as a network produces them. Noise variance 0.1.

Targets: at N = 20,000, d = 256, the tiled estimator at least 5x faster than numpy and its
peak memory at most 1/10 of numpy's (N = 10,000 is printed for information). Then N = 70,000,
d = 1,024 (all of MNIST through a wide layer) runs tiled only, its full matrix being beyond
this machine: target peak memory at most 1/10 of one N x N float64 matrix (39 GB).

Times are wall-clock seconds of single calls (numpy's takes a minute at N = 20,000); the
process's CPU seconds are printed beside them, since on a shared machine the two contenders,
run one after the other, may see different loads: CPU seconds are not stretched by other
processes (they favour numpy, whose exponentials run on one core).

Run: python bench/bench_kde.py   (exits 1 if a target fails)
"""
import argparse
import json
import math
import subprocess
import sys
import time

import numpy as np

_NOISE_VARIANCE = 0.1
_NUM_CLASSES = 10


def _layer(n, d, seed=0):
  """float32 [n, d] ReLU-like activations in 10 class clusters, and int labels [n]."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, _NUM_CLASSES, n)
  centres = rng.normal(size=(_NUM_CLASSES, d))
  spread = math.sqrt(2.0 / d)  # Within-class ‖Δ‖² ≈ 4, against 8σ² = 0.8.
  activations = np.empty((n, d), np.float32)
  for start in range(0, n, 8192):
    stop = min(n, start + 8192)
    chunk = centres[labels[start:stop]] + spread * rng.normal(size=(stop - start, d))
    activations[start:stop] = np.maximum(chunk, 0.0)
  return activations, labels


def numpy_full_matrix(activations, labels, noise_variance):
  """{i_xt_upper, i_xt_lower, i_ty_upper, i_ty_lower} in bits from the full N x N matrix."""
  h = activations.astype(np.float64)
  h -= h.mean(axis=0)
  n = len(h)
  sq_norms = np.einsum("nd,nd->n", h, h)
  distances = h @ h.T
  distances *= -2.0
  distances += sq_norms[:, None]
  distances += sq_norms[None, :]
  np.maximum(distances, 0.0, out=distances)
  np.fill_diagonal(distances, 0.0)
  kernel = np.empty_like(distances)
  classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
  h_y = -sum(len(m) / n * math.log(len(m) / n) for m in classes)
  result = {}
  for name, scale in (("upper", 1 / (2 * noise_variance)), ("lower", 1 / (8 * noise_variance))):
    np.multiply(distances, -scale, out=kernel)
    np.exp(kernel, out=kernel)
    log_all = np.log(kernel.sum(axis=1))
    log_in_class = np.empty(n)
    for members in classes:
      log_in_class[members] = np.log(kernel[np.ix_(members, members)].sum(axis=1))
    result[f"i_xt_{name}"] = (math.log(n) - log_all.mean()) / math.log(2)
    result[f"i_ty_{name}"] = (h_y - (log_all - log_in_class).mean()) / math.log(2)
  return result


def _rss_kib():
  status = {}
  with open("/proc/self/status") as f:
    for line in f:
      key, _, value = line.partition(":")
      if key in ("VmRSS", "VmHWM"):
        status[key] = int(value.split()[0])
  return status


def _timed(function):
  """(result, wall seconds, CPU seconds of this process) of one call."""
  wall, cpu = time.perf_counter(), time.process_time()
  result = function()
  return result, time.perf_counter() - wall, time.process_time() - cpu


def _worker(contender, n, d):
  """Runs one contender in this process; prints one JSON line."""
  activations, labels = _layer(n, d)
  if contender == "numpy":
    call = lambda: numpy_full_matrix(activations, labels, _NOISE_VARIANCE)
  else:
    import tfib.estimators  # pylint: disable=g-import-not-at-top
    kde = tfib.estimators.get("kde", noise_variance=_NOISE_VARIANCE)
    def call():
      extras = kde.estimate(activations, labels).extras
      return {k: extras[k] for k in ("i_xt_upper", "i_xt_lower", "i_ty_upper", "i_ty_lower")}
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # Resets the peak (VmHWM) to the current resident size.
  before = _rss_kib()["VmRSS"]
  record = {}
  result, record["seconds"], record["cpu_seconds"] = _timed(call)
  if contender == "tiled-twice":  # The first call compiled; time the second one too.
    record["first_seconds"] = record["seconds"]
    record["first_cpu_seconds"] = record["cpu_seconds"]
    result, record["seconds"], record["cpu_seconds"] = _timed(call)
  record["peak_bytes"] = (_rss_kib()["VmHWM"] - before) * 1024  # Over all calls.
  record["result"] = result
  print("RESULT " + json.dumps(record), flush=True)


def _run(contender, n, d):
  completed = subprocess.run(
      [sys.executable, __file__, "--worker", contender, "--n", str(n), "--d", str(d)],
      capture_output=True, text=True, check=False)
  lines = [l for l in completed.stdout.splitlines() if l.startswith("RESULT ")]
  if completed.returncode != 0 or not lines:
    sys.exit(f"{contender} worker failed (exit {completed.returncode}):\n"
             f"{completed.stderr[-3000:]}")
  return json.loads(lines[-1][len("RESULT "):])


def _gb(num_bytes):
  return f"{num_bytes / 1e9:7.3f} GB"


def _verdict(ok, judged=True):
  return ("PASS" if ok else "FAIL") if judged else "info"


def _compare(n, d, judged):
  print(f"\nN = {n:,}, d = {d:,}, noise variance {_NOISE_VARIANCE}, {_NUM_CLASSES} classes")
  tiled = _run("tiled-twice", n, d)
  numpy = _run("numpy", n, d)
  print(f"  tiled  {tiled['seconds']:7.2f} s wall, {tiled['cpu_seconds']:7.2f} s CPU   "
        f"(first call, XLA compile included: {tiled['first_seconds']:.2f} s wall, "
        f"{tiled['first_cpu_seconds']:.2f} s CPU)   peak memory {_gb(tiled['peak_bytes'])}")
  print(f"  numpy  {numpy['seconds']:7.2f} s wall, {numpy['cpu_seconds']:7.2f} s CPU   "
        f"(full N x N float64 matrix){' ' * 33}peak memory {_gb(numpy['peak_bytes'])}")
  for key, value in tiled["result"].items():
    print(f"  {key:<11} tiled {value:.9f}  numpy {numpy['result'][key]:.9f} bits"
          f"  |diff| {abs(value - numpy['result'][key]):.1e}")
  speedup = numpy["seconds"] / tiled["seconds"]
  first_speedup = numpy["seconds"] / tiled["first_seconds"]
  cpu_speedup = numpy["cpu_seconds"] / tiled["cpu_seconds"]
  memory = tiled["peak_bytes"] / numpy["peak_bytes"]
  agree = max(abs(v - numpy["result"][k]) for k, v in tiled["result"].items())
  print(f"  numpy / tiled, first call incl. compile {first_speedup:6.2f}x wall   info")
  print(f"  numpy / tiled, CPU seconds              {cpu_speedup:6.2f}x        info")
  checks = [
      (f"numpy / tiled time      {speedup:8.2f}x   target >= 5x", speedup >= 5.0),
      (f"tiled / numpy memory    {memory:8.4f}    target <= 0.1", memory <= 0.1),
      (f"max |tiled - numpy|     {agree:8.1e}    target <= 1e-5 bits", agree <= 1e-5),
  ]
  for text, ok in checks:
    print(f"  {text}   {_verdict(ok, judged)}")
  return all(ok for _, ok in checks) or not judged


def _large(n, d):
  print(f"\nN = {n:,}, d = {d:,}, noise variance {_NOISE_VARIANCE}: tiled only")
  tiled = _run("tiled", n, d)
  matrix_bytes = n * n * 8
  print(f"  tiled  {tiled['seconds']:8.2f} s wall, {tiled['cpu_seconds']:8.2f} s CPU (XLA "
        f"compile included)   peak memory {_gb(tiled['peak_bytes'])}")
  print(f"  (activations {_gb(n * d * 4)}; one N x N float64 matrix {_gb(matrix_bytes)})")
  for key, value in tiled["result"].items():
    print(f"  {key:<11} {value:.6f} bits")
  ok = tiled["peak_bytes"] <= matrix_bytes / 10
  print(f"  peak / N x N float64 matrix {tiled['peak_bytes'] / matrix_bytes:8.4f}   "
        f"target <= 0.1   {_verdict(ok)}")
  return ok


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--worker", choices=["tiled", "tiled-twice", "numpy"])
  parser.add_argument("--n", type=int)
  parser.add_argument("--d", type=int)
  args = parser.parse_args()
  if args.worker:
    _worker(args.worker, args.n, args.d)
    return 0
  passed = _compare(10_000, 256, judged=False)
  passed &= _compare(20_000, 256, judged=True)
  passed &= _large(70_000, 1_024)
  print("\nall targets met" if passed else "\nSOME TARGETS FAILED")
  return 0 if passed else 1


if __name__ == "__main__":
  sys.exit(main())
