"""Lorenzen et al.'s quantized presets: 'exact' is exact, whatever the evaluation batch size.

For every preset at 4 and 8 bits, after an epoch of training: every unit takes at most
2^bits values on the whole dataset, and the InformationPlane's 'exact' records equal
scikit-learn's mutual_info_score on the layers' integer codes (the distinct rows of one
compiled evaluation of all N inputs), for evaluation batch sizes 1,000, 8,192 and N alike.
(The network is evaluated as a compiled graph, as the callback does: eager execution rounds
some pre-activations differently, and a value one rounding error from a level boundary
lands on the other side.)
"""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import mutual_info_score

from tfib import data
from tfib.callbacks import InformationPlane
from tfib.layers import activation_model
from tfib.models import presets
from tfib.runs import read_records


def _bits(a, b):
  return mutual_info_score(a, b) / math.log(2)


@pytest.fixture(scope="module")
def datasets():
  szt = data.szt()
  images, labels = data.mnist5k()
  images = data.to_float(images)
  shifted = np.roll(images, 1, axis=2)  # 10,000 distinct images: more than one batch of 8,192.
  return {"szt": szt, "mnist": (np.concatenate([images, shifted]),
                                np.concatenate([labels, labels]).astype(np.int32))}


@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("name", presets.names())
def test_exact_is_exact_for_every_batch_size(name, bits, datasets, tmp_path):
  x, y = datasets["szt" if name.startswith("szt") else "mnist"]
  keras.utils.set_random_seed(0)
  model = presets.build(name, bits=bits, seed=0)
  model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
  model.fit(x[:2048], y[:2048], batch_size=256, epochs=1, verbose=0)
  layers = presets.information_plane_layers(model)

  network = activation_model(model, layers)
  activations = tf.function(lambda x: network(x, training=False))(x)  # One batch of all N.
  expected = {}
  for layer, values in zip(layers, activations):
    values = np.asarray(values).reshape(len(x), -1)
    for unit in range(values.shape[1]):
      assert len(np.unique(values[:, unit])) <= 2 ** bits, (layer, unit)
    codes = np.unique(values, axis=0, return_inverse=True)[1].ravel()
    expected[layer] = (_bits(codes, codes), _bits(y, codes))

  records = {}
  for batch_size in (1000, 8192, len(x)):
    plane = InformationPlane(layers, x, y, [f"exact:bits={bits}"], epochs=[0],
                             logdir=str(tmp_path / str(batch_size)), batch_size=batch_size)
    plane.set_model(model)
    plane.on_train_begin()
    records[batch_size] = {r["layer"]: (r["i_xt"], r["i_ty"])
                           for r in read_records(plane.results_path)}
  for layer in layers:
    for batch_size, found in records.items():
      assert found[layer] == pytest.approx(expected[layer], abs=1e-9), (layer, batch_size)
