"""What recording the information plane adds to training, at full IDNNs size.

Runs tfib-infoplane twice with the same flags (configs/idnns_full.cfg: 8000 epochs, MI of all
6 layers at the 274 log-spaced epochs with both default estimators): once without any
estimator, once with. Prints both wall times and the overhead ratio (target: at most 20%),
plus the in-run accounting of the second run (time inside the callback vs training).

    python bench/bench_infoplane.py                 # full size, ~10 minutes on 2 cores
    python bench/bench_infoplane.py --epochs=500    # a quick look
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = 0.20


def run(flags, logdir):
  command = [sys.executable, "-m", "tfib.bin.infoplane",
             f"--flagfile={os.path.join(REPO, 'configs', 'idnns_full.cfg')}",
             f"--logdir={logdir}", *flags]
  start = time.perf_counter()
  subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  return time.perf_counter() - start


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=None, help="Override the 8000 epochs.")
  args = parser.parse_args()
  extra = [f"--epochs={args.epochs}"] if args.epochs else []
  with tempfile.TemporaryDirectory() as root:
    plain = run(extra + ["--estimator="], os.path.join(root, "plain"))
    traced_dir = os.path.join(root, "traced")
    traced = run(extra, traced_dir)
    with open(os.path.join(traced_dir, "seed_0", "summary.json")) as stream:
      summary = json.load(stream)
    with open(os.path.join(traced_dir, "seed_0", "results.jsonl")) as stream:
      num_records = sum(1 for _ in stream)
  overhead = traced / plain - 1
  inside = summary["seconds_information_plane"] / summary["seconds_training"]
  print(f"tfib-infoplane, configs/idnns_full.cfg{' ' + ' '.join(extra) if extra else ''}")
  print(f"  training only:                  {plain:8.1f} s (whole command)")
  print(f"  training + information plane:   {traced:8.1f} s (whole command, "
        f"{num_records} records)")
  print(f"  overhead, whole command:        {100 * overhead:7.1f} %   target <= "
        f"{100 * TARGET:.0f} %  {'PASS' if overhead <= TARGET else 'FAIL'}")
  print(f"  inside the run: callback {summary['seconds_information_plane']:.1f} s vs training "
        f"{summary['seconds_training']:.1f} s = {100 * inside:.1f} %")


if __name__ == "__main__":
  main()
