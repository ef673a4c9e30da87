"""Recurrent layers against real Keras 3 for identical weights and inputs (fixtures:
tests/fixtures/make_rnn_fixtures.py): LSTM / GRU (both variants) / SimpleRNN with
return_sequences, return_state, go_backwards, initial_state, unroll, other activations, masks
(from Embedding(mask_zero), Masking or passed in), every Bidirectional merge mode with states,
initial states and a backward_layer, TimeDistributed (a BatchNormalization in training updates
per timestep), stacked cells and their nested states, stateful layers; and a small recurrent
classifier trained two epochs in both libraries."""

import os
import sys

import numpy as np
import pytest

import rkeras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from rnn_cases import CASES, STATEFUL, flatten, training_model  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_rnn_reference.npz"))


def _arrays(prefix):
    out, j = [], 0
    while f"{prefix}{j}" in REF.files:
        out.append(REF[f"{prefix}{j}"])
        j += 1
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_layer_matches_keras(name):
    layer, x, kwargs = CASES[name](rkeras)
    layer(x, **kwargs)
    weights = _arrays(f"{name}_w")
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights], "weight layout differs from Keras"
    layer.set_weights(weights)
    ys, structure = flatten(layer(x, **kwargs))
    assert structure == str(REF[f"{name}_structure"]), "outputs nested differently from Keras's"
    want = _arrays(f"{name}_y")
    assert len(ys) == len(want)
    for got, ref in zip(ys, want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    for got, ref in zip(layer.get_weights(), _arrays(f"{name}_after")):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(STATEFUL))
def test_stateful_layer_matches_keras(name):
    layer, x = STATEFUL[name](rkeras)
    layer(x)
    layer.set_weights(_arrays(f"{name}_w"))
    layer.reset_states()
    np.testing.assert_allclose(np.asarray(layer(x)), REF[f"{name}_y0"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(layer(x)), REF[f"{name}_y1"], rtol=1e-4, atol=1e-5)


def test_recurrent_training_matches_keras():
    model = training_model(rkeras)
    model.set_weights(_arrays("train_w"))
    model.compile(optimizer=rkeras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    history = model.fit(REF["train_x"], REF["train_y"], batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["train_loss"], rtol=1e-4, atol=1e-5)
    for got, want in zip(model.get_weights(), _arrays("train_trained")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
