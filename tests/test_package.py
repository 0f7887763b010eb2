"""What a new user does first: save a model, load it in a fresh interpreter after import tfib."""
import subprocess
import sys
import textwrap

SAVE = textwrap.dedent("""
    import sys
    import keras
    import tfib
    from tfib.models import presets
    from tfib.training.optimization import EpochLearningRate
    model = presets.build("szt-tanh", bits=8)
    model.compile(keras.optimizers.Adam(EpochLearningRate(1e-3, "cosine", 10, 5)), "mse")
    model.save(sys.argv[1])
""")
LOAD = textwrap.dedent("""
    import sys
    import keras
    import tfib  # Nothing else from tfib: registering its Keras objects is import tfib's job.
    model = keras.models.load_model(sys.argv[1])
    print("LAYERS", sorted({type(layer).__name__ for layer in model.layers}))
    print("SCHEDULE", type(model.optimizer.learning_rate).__name__
          if not hasattr(model.optimizer, "_learning_rate") else
          type(model.optimizer._learning_rate).__name__)
""")


def test_a_saved_model_loads_after_import_tfib(tmp_path):
  path = str(tmp_path / "model.keras")
  saved = subprocess.run([sys.executable, "-c", SAVE, path], capture_output=True, text=True,
                         timeout=300)
  assert saved.returncode == 0, saved.stderr[-3000:]
  loaded = subprocess.run([sys.executable, "-c", LOAD, path], capture_output=True, text=True,
                          timeout=300)
  assert loaded.returncode == 0, loaded.stderr[-3000:]
  assert "'FakeQuant'" in loaded.stdout and "'QuantizedDense'" in loaded.stdout
  assert "SCHEDULE EpochLearningRate" in loaded.stdout
