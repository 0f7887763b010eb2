"""MirroredStrategy over two logical CPU devices follows the loss curve of one device.

The two differ only in the order of floating-point sums (and the one-pass variance of
synchronised batch norm), which a few SGD steps amplify to a few parts in 10^4.

TensorFlow's devices can be split only before it initialises them, so the comparison runs
in a fresh Python process.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent("""
    import json, sys
    from tfib.training import strategies
    strategies.split_cpu(2)
    import tensorflow as tf
    import tfib.training
    from tfib.training.resnet_training import TrainConfig, train_resnet
    config = TrainConfig(epochs=2, learning_rate=0.02, batch_size=32, width=2, depth=10, save_epochs="2",
                         max_train_examples=128, max_eval_examples=64)
    out = {}
    for name in ("default", "mirrored"):
      strategy = strategies.make_strategy(name)
      result = train_resnet(config, sys.argv[1] + "/" + name, strategy=strategy)
      history = tfib.training.training_history(result.run_dir)
      out[name] = {"replicas": strategy.num_replicas_in_sync,
                   "history": [entry["metrics"] for entry in history]}
    try:
      train_resnet(config, sys.argv[1] + "/jit", strategy=strategy, jit_compile=True)
    except ValueError as error:
      out["jit_error"] = str(error)
    print("RESULT " + json.dumps(out))
""")


def test_two_devices_follow_the_loss_curve_of_one(tmp_path):
  result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  (line,) = [l for l in result.stdout.splitlines() if l.startswith("RESULT ")]
  runs = json.loads(line[len("RESULT "):])
  assert runs["default"]["replicas"] == 1 and runs["mirrored"]["replicas"] == 2
  assert "jit_compile with sync_batch_norm needs a single replica" in runs["jit_error"]
  one, two = runs["default"]["history"], runs["mirrored"]["history"]
  assert len(one) == len(two) == 3
  for epoch, (a, b) in enumerate(zip(one, two)):
    assert a.keys() == b.keys()
    for name in a:
      if name.endswith("accuracy"):  # Discrete: a borderline example may flip.
        assert abs(b[name] - a[name]) <= 2 / 64 + 1e-9, (name, epoch)
      else:
        np.testing.assert_allclose(b[name], a[name], rtol=2e-3, atol=1e-5,
                                   err_msg=f"{name} at epoch {epoch}")
