"""`.weights.h5` files exchanged with real Keras 3.15 for models with every convolution,
pooling, normalization and recurrent layer family (fixtures: make_weights_fixtures.py): a file
Keras wrote loads here and predicts Keras's numbers; the file written here has Keras's layout
(every group and dataset at the same path with the same shape) and values, so Keras reads it."""

import os
import sys

import h5py
import numpy as np
import pytest

import rkeras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from weights_cases import MODELS, random_weights  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_weights_reference.npz"))


def _datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, np.asarray(obj)) if isinstance(obj, h5py.Dataset) else None)
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_keras_weights_file_loads_and_predicts_keras_numbers(name):
    build, _ = MODELS[name]
    model = build(rkeras)
    model.load_weights(os.path.join(FIXTURES, f"keras_{name}.weights.h5"))
    np.testing.assert_allclose(np.asarray(model.predict(REF[f"{name}_x"], verbose=0)), REF[f"{name}_y"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_weights_file_written_here_has_keras_layout(name, tmp_path):
    build, make_input = MODELS[name]
    model = build(rkeras)
    model.set_weights(random_weights(model, np.random.default_rng(8)))
    model.load_weights(os.path.join(FIXTURES, f"keras_{name}.weights.h5"))
    path = str(tmp_path / f"{name}.weights.h5")
    model.save_weights(path)
    ours, keras = _datasets(path), _datasets(os.path.join(FIXTURES, f"keras_{name}.weights.h5"))
    assert sorted(ours) == sorted(keras)
    for key in keras:
        assert ours[key].shape == keras[key].shape, key
        np.testing.assert_array_equal(ours[key], keras[key], err_msg=key)
    # And it reads back.
    again = build(rkeras)
    again.load_weights(path)
    np.testing.assert_allclose(np.asarray(again.predict(REF[f"{name}_x"], verbose=0)), REF[f"{name}_y"], rtol=1e-4, atol=1e-5)
