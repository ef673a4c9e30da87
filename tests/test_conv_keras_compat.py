"""Convolution, pooling, normalization and spatial layers against real Keras 3 for identical
weights and inputs (fixtures: tests/fixtures/make_conv_fixtures.py), a small CNN trained two
epochs in both libraries, and one whose BatchNormalization is frozen (trainable=False)."""

import os
import sys

import numpy as np
import pytest

import rkeras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from conv_cases import CASES, cnn, frozen_bn_model, regularized_model  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_conv_reference.npz"))


def _weights(prefix):
    out, j = [], 0
    while f"{prefix}{j}" in REF.files:
        out.append(REF[f"{prefix}{j}"])
        j += 1
    return out


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_layer_matches_keras(index):
    cls, kwargs, shape = CASES[index]
    layer = getattr(rkeras.layers, cls)(**kwargs)
    x = REF[f"{index}_x"]
    layer.build(shape)
    weights = _weights(f"{index}_w")
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights], "weight layout differs from Keras"
    layer.set_weights(weights)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), REF[f"{index}_y"], rtol=1e-4, atol=1e-5)
    if f"{index}_y_train" in REF.files:
        np.testing.assert_allclose(np.asarray(layer(x, training=True)), REF[f"{index}_y_train"], rtol=1e-4, atol=1e-4)
        for got, want in zip(layer.get_weights(), _weights(f"{index}_after")):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_cnn_training_matches_keras():
    model = cnn(rkeras.layers, rkeras.Input, rkeras.Sequential)
    model.set_weights(_weights("cnn_w"))
    model.compile(optimizer=rkeras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(REF["cnn_x"], REF["cnn_y"], batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["cnn_loss"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(history.history["accuracy"], REF["cnn_accuracy"], atol=1e-6)
    for got, want in zip(model.get_weights(), _weights("cnn_trained")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(model.predict(REF["cnn_x"], verbose=0), REF["cnn_predict"], rtol=1e-3, atol=1e-3)


def test_frozen_batch_norm_trains_as_in_keras():
    """trainable=False: the moving statistics normalize (inference mode) even inside fit, and
    neither they nor gamma/beta move; the rest of the model trains exactly as Keras's."""
    model = frozen_bn_model(rkeras.layers, rkeras.Input, rkeras.Sequential)
    initial = _weights("frozen_w")
    model.set_weights(initial)
    model.compile(optimizer=rkeras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    history = model.fit(REF["frozen_x"], REF["frozen_y"], batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["frozen_loss"], rtol=1e-5, atol=1e-6)
    trained = model.get_weights()
    for got, want in zip(trained, _weights("frozen_trained")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for j in range(2, 6):  # gamma, beta, moving mean and variance
        np.testing.assert_array_equal(trained[j], initial[j])


def test_regularizers_and_constraints_train_as_in_keras():
    model = regularized_model(rkeras)
    model.set_weights(_weights("reg_w"))
    model.compile(optimizer=rkeras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    history = model.fit(REF["reg_x"], REF["reg_y"], batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["reg_loss"], rtol=1e-5, atol=1e-6)
    for got, want in zip(model.get_weights(), _weights("reg_trained")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
