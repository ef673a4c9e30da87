"""Recurrent layers: the fused sequence op against a numpy implementation of each cell's
equations (masks, go_backwards, zero outputs for masked steps, initial states, recurrent dropout
masks, both GRU variants) over hypothesis-drawn sizes; its gradients (inputs, initial states and
every weight) against finite differences in float64; layer contracts; end-to-end learning;
masking invariance; a user-written cell on the Python path; stateful layers; bad input."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import rkeras
from rkeras import _core, layers, ops
from layercheck import run_layer_test
from opcheck import finite_difference_check


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def reference(cell, x, w, rk, bias, h0, c0, mask, rmask, backwards, zero_output, reset_after=True):
    """Keras's cell equations, step by step, with Keras's masking rules."""
    b, t, _ = x.shape
    u = rk.shape[0]
    h, c = h0.copy(), None if c0 is None else c0.copy()
    outputs = []
    order = range(t - 1, -1, -1) if backwards else range(t)
    hm = lambda h: h if rmask is None else h * rmask  # noqa: E731
    for ti in order:
        xt = x[:, ti]
        if cell == "lstm":
            z = xt @ w + hm(h) @ rk + (0 if bias is None else bias)
            i, f, g, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
        elif cell == "gru":
            bx = 0 if bias is None else (bias[0] if reset_after else bias)
            br = 0 if bias is None or not reset_after else bias[1]
            xz = xt @ w + bx
            if reset_after:
                hu = hm(h) @ rk + br
                zg, r = sigmoid(xz[:, :u] + hu[:, :u]), sigmoid(xz[:, u:2 * u] + hu[:, u:2 * u])
                hh = np.tanh(xz[:, 2 * u:] + r * hu[:, 2 * u:])
            else:
                hu = hm(h) @ rk[:, :2 * u]
                zg, r = sigmoid(xz[:, :u] + hu[:, :u]), sigmoid(xz[:, u:2 * u] + hu[:, u:])
                hh = np.tanh(xz[:, 2 * u:] + (r * hm(h)) @ rk[:, 2 * u:])
            h_new = zg * h + (1 - zg) * hh
            c_new = None
        else:
            h_new = np.tanh(xt @ w + hm(h) @ rk + (0 if bias is None else bias))
            c_new = None
        keep = np.ones((b, 1)) if mask is None else mask[:, ti:ti + 1]
        out = h_new * keep + (0 if zero_output else h) * (1 - keep)
        h = h_new * keep + h * (1 - keep)
        if c is not None:
            c = c_new * keep + c * (1 - keep)
        outputs.append(out)
    finals = [h] + ([c] if cell == "lstm" else [])
    return np.concatenate([np.stack(outputs, 1)] + [f[:, None] for f in finals], axis=1)


@st.composite
def rnn_cases(draw):
    cell = draw(st.sampled_from(["lstm", "gru", "gru_plain", "simple"]))
    b, t, d, u = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    flags = draw(st.fixed_dictionaries({"mask": st.booleans(), "backwards": st.booleans(), "zero": st.booleans(), "bias": st.booleans(), "rmask": st.booleans()}))
    return cell, b, t, d, u, flags, draw(st.integers(0, 999))


@settings(max_examples=40, deadline=None)
@given(rnn_cases())
def test_rnn_op_matches_numpy_and_finite_differences(case):
    cell, b, t, d, u, flags, seed = case
    rng = np.random.default_rng(seed)
    kind, reset_after = ("gru", cell != "gru_plain") if cell.startswith("gru") else (cell, True)
    g = {"lstm": 4, "gru": 3, "simple": 1}[kind]
    x, w, rk = rng.normal(size=(b, t, d)), rng.normal(size=(d, g * u)), rng.normal(size=(u, g * u))
    bias = rng.normal(size=(2, g * u) if kind == "gru" and reset_after else (g * u,)) if flags["bias"] else None
    h0 = rng.normal(size=(b, u))
    c0 = rng.normal(size=(b, u)) if kind == "lstm" else None
    mask = (rng.random((b, t)) > 0.3).astype("float64") if flags["mask"] else None
    rmask = np.where(rng.random((b, u)) > 0.3, 1.4, 0.0) if flags["rmask"] else None
    args = dict(mask=mask, recurrent_mask=rmask, cell=kind, reset_after=reset_after, go_backwards=flags["backwards"], zero_output_for_mask=flags["zero"])

    def fn(x, w, rk, h0, *rest):
        rest = list(rest)
        b_ = rest.pop(0) if bias is not None else None
        c_ = rest.pop(0) if c0 is not None else None
        return _core.rnn(x, w, rk, b_, h0, c_, **args)

    got = np.asarray(fn(x, w, rk, h0, *[a for a in (bias, c0) if a is not None]))
    want = reference(kind, x, w, rk, bias, h0, c0, mask, rmask, flags["backwards"], flags["zero"], reset_after)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    finite_difference_check(fn, [x, w, rk, h0] + [a for a in (bias, c0) if a is not None])


LAYER_CASES = [
    (layers.SimpleRNN, {"units": 3}, (2, 4, 2), (2, 3), 3),
    (layers.SimpleRNN, {"units": 3, "return_sequences": True, "go_backwards": True}, (2, 4, 2), (2, 4, 3), 3),
    (layers.LSTM, {"units": 3}, (2, 4, 2), (2, 3), 3),
    (layers.LSTM, {"units": 2, "return_sequences": True, "dropout": 0.2, "recurrent_dropout": 0.2}, (2, 4, 3), (2, 4, 2), 3),
    (layers.GRU, {"units": 3}, (2, 4, 2), (2, 3), 3),
    (layers.GRU, {"units": 3, "reset_after": False, "return_sequences": True}, (2, 4, 2), (2, 4, 3), 3),
    (layers.RNN, {"cell": layers.GRUCell(2)}, (2, 4, 3), (2, 2), 3),
    (layers.Bidirectional, {"layer": layers.LSTM(2, return_sequences=True)}, (2, 4, 3), (2, 4, 4), 6),
    (layers.Bidirectional, {"layer": layers.GRU(2), "merge_mode": "ave"}, (2, 4, 3), (2, 2), 6),
    (layers.TimeDistributed, {"layer": layers.Dense(2)}, (2, 4, 3), (2, 4, 2), 2),
    (layers.Masking, {"mask_value": 0.0}, (2, 4, 3), (2, 4, 3), 0),
]


@pytest.mark.parametrize("cls,kwargs,input_shape,output_shape,trainable", LAYER_CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_layer_contract(cls, kwargs, input_shape, output_shape, trainable):
    # Layer arguments are rebuilt per use (a layer instance can only wrap once).
    kwargs = {k: (type(v).from_config(v.get_config()) if isinstance(v, rkeras.layers.Layer) else v) for k, v in kwargs.items()}
    run_layer_test(cls, kwargs, input_shape, output_shape, expected_num_trainable_weights=trainable)


def test_embedding_contract_and_keras2_input_length():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    run_layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 2}, (2, 3), (2, 3, 2), expected_num_trainable_weights=1, input_dtype="int64", input_data=ids, run_training_check=False)
    layer = layers.Embedding(5, 2, input_length=3)
    np.testing.assert_array_equal(np.asarray(layer(ids)), np.asarray(layer.embeddings)[ids])


def test_return_state_and_initial_state_in_a_functional_model():
    inputs = rkeras.Input((4, 3))
    h, c = rkeras.Input((2,)), rkeras.Input((2,))
    seq, h_out, c_out = layers.LSTM(2, return_sequences=True, return_state=True)(inputs, initial_state=[h, c])
    model = rkeras.Model([inputs, h, c], [seq, h_out, c_out])
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.normal(size=(2, 4, 3)).astype("float32"), rng.normal(size=(2, 2)).astype("float32"), rng.normal(size=(2, 2)).astype("float32")
    seq, h_out, c_out = (np.asarray(t) for t in model.predict([x, h0, c0], verbose=0))
    cell = model.layers[3].cell
    want = reference("lstm", x.astype("float64"), *(np.asarray(w, "float64") for w in (cell.kernel, cell.recurrent_kernel, cell.bias)), h0, c0, None, None, False, False)
    np.testing.assert_allclose(seq, want[:, :4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_out, want[:, 4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_out, want[:, 5], rtol=1e-5, atol=1e-6)


def test_stacked_lstm_with_dropout_learns_a_sequence_task():
    rkeras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 12, 2)).astype("float32")
    # Label: is the running sum of feature 0 positive at the end (needs memory over time)?
    y = (x[:, :, 0].sum(1) > 0).astype("int64")
    model = rkeras.Sequential([rkeras.Input((12, 2)), layers.LSTM(16, return_sequences=True), layers.Dropout(0.2), layers.LSTM(16), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=rkeras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:500], y[:500], batch_size=32, epochs=15, verbose=0)
    _, accuracy = model.evaluate(x[500:], y[500:], verbose=0)
    assert accuracy >= 0.9, f"held-out accuracy {accuracy:.3f}"


def test_mask_zero_makes_the_output_independent_of_padding_length():
    rkeras.utils.set_random_seed(1)
    model = rkeras.Sequential([rkeras.Input((None,), dtype="int64"), layers.Embedding(10, 4, mask_zero=True), layers.LSTM(5)])
    ids = np.array([[3, 1, 4, 1], [5, 9, 2, 0]])
    short = np.asarray(model.predict(ids, verbose=0))
    long = np.asarray(model.predict(np.pad(ids, ((0, 0), (0, 5))), verbose=0))
    np.testing.assert_allclose(short, long, rtol=1e-6, atol=1e-7)
    # And differs when the padding is not masked.
    plain = rkeras.Sequential([rkeras.Input((None,), dtype="int64"), layers.Embedding(10, 4), layers.LSTM(5)])
    plain.set_weights(model.get_weights())
    assert not np.allclose(np.asarray(plain.predict(np.pad(ids, ((0, 0), (0, 5))), verbose=0)), short)


class MinimalCell(rkeras.layers.Layer):
    """A user-written cell (the Keras guide's example): runs on RNN's Python path."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
        return h, [h]


def test_user_cell_runs_in_python_and_matches_the_fused_simple_rnn():
    x = np.random.default_rng(2).normal(size=(3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    user = layers.RNN(MinimalCell(4), return_sequences=True, go_backwards=True)
    user(x)
    fused = layers.SimpleRNN(4, use_bias=False, return_sequences=True, go_backwards=True)
    fused(x)
    fused.set_weights(user.get_weights())
    np.testing.assert_allclose(np.asarray(user(x, mask=mask)), np.asarray(fused(x, mask=mask)), rtol=1e-5, atol=1e-6)
    # It trains (gradients flow through the Python loop).
    model = rkeras.Sequential([rkeras.Input((5, 2)), layers.RNN(MinimalCell(4)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x, np.ones((3, 1)), verbose=0)
    model.fit(x, np.ones((3, 1)), epochs=20, verbose=0)
    assert model.evaluate(x, np.ones((3, 1)), verbose=0) < before


@pytest.mark.parametrize("make", [lambda **k: layers.LSTM(3, **k), lambda **k: layers.GRU(3, **k), lambda **k: layers.GRU(3, reset_after=False, **k), lambda **k: layers.SimpleRNN(3, **k)])
def test_other_activations_run_the_cell_equations_with_ops(make, monkeypatch):
    """A cell with an activation the fused kernel lacks (here swish) runs its equations as ops;
    with tanh forced onto that path, it must agree with the fused kernel."""
    x = np.random.default_rng(4).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)
    fused = make(return_sequences=True)
    want = np.asarray(fused(x, mask=mask))
    from rkeras.layers import recurrent

    monkeypatch.setattr(recurrent._Cell, "fused_activations", lambda self: None)
    np.testing.assert_allclose(np.asarray(fused(x, mask=mask)), want, rtol=1e-5, atol=1e-6)
    monkeypatch.undo()
    swish = make(return_sequences=True, activation="swish")
    model = rkeras.Sequential([rkeras.Input((4, 3)), swish, layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x, np.ones((2, 1)), verbose=0)
    model.fit(x, np.ones((2, 1)), epochs=10, verbose=0)
    assert model.evaluate(x, np.ones((2, 1)), verbose=0) < before


def test_stateful_layer_carries_state_until_reset():
    x = np.random.default_rng(3).normal(size=(2, 3, 2)).astype("float32")
    layer = layers.GRU(3, stateful=True)
    first = np.asarray(layer(x))
    second = np.asarray(layer(x))
    assert not np.allclose(first, second)
    layer.reset_states()
    np.testing.assert_allclose(np.asarray(layer(x)), first, rtol=1e-6)
    with pytest.raises(ValueError, match="batch size"):
        layer(np.zeros((3, 3, 2), "float32"))


def test_config_round_trip_keeps_cell_arguments():
    layer = layers.LSTM(5, activation="relu", unit_forget_bias=False, dropout=0.1, return_sequences=True, go_backwards=True)
    revived = layers.LSTM.from_config(layer.get_config())
    assert revived.get_config() == layer.get_config()
    assert revived.units == 5 and revived.cell.unit_forget_bias is False and revived.go_backwards
    bi = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="mul")
    revived = layers.Bidirectional.from_config(bi.get_config())
    assert revived.merge_mode == "mul" and revived.backward_layer.go_backwards


def test_unit_forget_bias_initializes_the_forget_gate_to_one():
    layer = layers.LSTM(3)
    layer(np.zeros((1, 2, 2), "float32"))
    np.testing.assert_array_equal(np.asarray(layer.cell.bias), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert tuple(layers.GRU(3).cell._bias_shape()) == (2, 9) and tuple(layers.GRU(3, reset_after=False).cell._bias_shape()) == (9,)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="ndim=3|3-D"):
        layers.LSTM(2)(np.zeros((4, 5), "float32"))
    with pytest.raises(ValueError, match="mask"):
        layers.GRU(2)(np.zeros((2, 4, 3), "float32"), mask=np.ones((2, 5), bool))
    with pytest.raises(IndexError, match="out of range"):
        layers.Embedding(5, 2)(np.array([[1, 5]]))
    with pytest.raises(IndexError, match="out of range"):
        layers.Embedding(5, 2)(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRU(2, dropout="0.5")
    with pytest.raises(ValueError, match="initial state"):
        layers.LSTM(2)(np.zeros((2, 4, 3), "float32"), initial_state=[np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32")])


# ---- issue 6 audit: behaviour checked against Keras 3.15 ----------------------------------

def test_dropout_rates_are_clipped_and_a_rate_of_one_disables_dropout():
    """As Keras: rates are clipped to [0, 1], and dropout applies only for 0 < rate < 1."""
    layer = layers.GRU(3, dropout=1.5, recurrent_dropout=-0.5, return_sequences=True)
    assert (layer.dropout, layer.recurrent_dropout) == (1.0, 0.0) and layer.get_config()["dropout"] == 1.0
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(x, training=True)), np.asarray(layer(x, training=False)))


@pytest.mark.parametrize("make", [lambda **k: layers.SimpleRNN(4, return_sequences=True, **k), lambda **k: layers.RNN([layers.SimpleRNNCell(4, **k)], return_sequences=True), lambda **k: layers.SimpleRNN(4, activation="swish", return_sequences=True, **k)], ids=["fused", "stacked-loop", "ops-loop"])
def test_dropout_masks_are_drawn_once_per_sequence(make):
    """With a zero recurrent kernel, h_t = act(x_t·mask·W + b): for an input constant in time the
    outputs are constant in time only if every step uses the same input mask (Keras's rule);
    inference is the layer without dropout."""
    layer = make(dropout=0.5, seed=1)
    x = np.tile(np.random.default_rng(1).normal(size=(3, 1, 6)).astype("float32"), (1, 5, 1))
    layer(x)
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights([kernel, np.zeros_like(recurrent), bias])
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y, np.broadcast_to(y[:, :1], y.shape), rtol=1e-6, atol=1e-7)
    cell = layer.cell.cells[0] if hasattr(layer.cell, "cells") else layer.cell
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), np.asarray(cell.activation(ops.convert_to_tensor(x @ kernel + bias))), rtol=1e-5, atol=1e-6)
    assert not np.allclose(y, np.asarray(layer(x, training=False)))
    assert cell.get_dropout_mask(x[:, 0]) is cell.get_dropout_mask(x[:, 0])  # cached until reset
    cell.reset_dropout_mask()


def test_keras2_and_cudnn_arguments():
    layers.LSTM(2, time_major=False, implementation=1, use_cudnn=False)
    with pytest.raises(ValueError, match="time_major=True"):
        layers.LSTM(2, time_major=True)
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.GRU(2, use_cudnn="yes")


def test_a_stateful_rnn_needs_a_static_batch_size():
    with pytest.raises(ValueError, match="the batch size must be static"):
        layers.LSTM(3, stateful=True)(rkeras.Input((4, 3)))
    layers.LSTM(3, stateful=True)(rkeras.Input(batch_shape=(2, 4, 3)))


def test_bidirectional_checks_its_layers_as_keras():
    with pytest.raises(ValueError, match="different `go_backwards` value. Received: forward_layer.go_backwards True, backward_layer.go_backwards=True"):
        layers.Bidirectional(layers.LSTM(3, go_backwards=True))
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.GRU(2))
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.GRU(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="`backward_layer` need to be a `keras.layers.Layer`"):
        layers.Bidirectional(layers.LSTM(3), backward_layer="gru")
    bi = layers.Bidirectional(layers.GRU(2, name="forward_g"))
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_g", "backward_forward_g")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards and bi.stateful is False


def test_time_distributed_masks():
    td = layers.TimeDistributed(layers.Dense(2))
    x = np.ones((2, 3, 4), "float32")
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        td(x, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="at least 2D"):
        td(x, mask=np.ones((2,), bool))
    # A wrapped layer that takes a mask gets each timestep's: GlobalAveragePooling1D averages the
    # unmasked inner steps only.
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5)).astype("float32")
    mask = np.random.default_rng(3).random((2, 3, 4)) > 0.4
    mask[..., 0] = True
    y = np.asarray(layers.TimeDistributed(layers.GlobalAveragePooling1D())(x, mask=mask))
    want = (x * mask[..., None]).sum(2) / mask.sum(2)[..., None]
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_time_distributed_batch_norm_trains_per_timestep():
    """Keras runs the wrapped layer once per timestep: in training each step is normalized with
    its own batch statistics, and the moving statistics fold in once per step."""
    x = np.random.default_rng(5).normal(loc=np.arange(3)[None, :, None], size=(8, 3, 2))
    td = layers.TimeDistributed(layers.BatchNormalization(momentum=0.5, dtype="float64"), dtype="float64")
    y = np.asarray(td(x, training=True))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10, atol=1e-12)
    moving = np.zeros(2)
    for t in range(3):
        moving = 0.5 * moving + 0.5 * mean[t]
    np.testing.assert_allclose(np.asarray(td.layer.moving_mean), moving, rtol=1e-12)


def test_simple_rnn_ignores_activity_regularizer_as_keras_does():
    x = np.ones((2, 3, 2), "float32")
    simple = layers.SimpleRNN(2, activity_regularizer="l2")
    simple(x)
    assert simple.losses == [] and simple.get_config()["activity_regularizer"] is None and "seed" not in simple.get_config()
    lstm = layers.LSTM(2, activity_regularizer="l2")
    out = np.asarray(lstm(x))
    np.testing.assert_allclose(np.asarray(lstm.losses[0]), 0.01 * np.sum(out**2) / 2, rtol=1e-5)
    assert lstm.get_config()["activity_regularizer"]["class_name"] == "L2"
    assert layers.GRU(2).get_config()["activity_regularizer"] is None


def test_cells_return_states_as_they_received_them():
    x, h = np.ones((2, 3), "float32"), np.zeros((2, 4), "float32")
    for cell in (layers.GRUCell(4), layers.SimpleRNNCell(4)):
        out, state = cell(x, [h])
        assert isinstance(state, list) and len(state) == 1 and np.allclose(np.asarray(state[0]), np.asarray(out))
        out, state = cell(x, h)
        assert not isinstance(state, list)
    out, (h1, c1) = layers.LSTMCell(4)(x, [h, h])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(h1))


def test_stacked_cells_states_nest_per_cell_symbolically_too():
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)
    inp = rkeras.Input((5, 4))
    out, lstm_states, gru_states = layer(inp)
    assert [tuple(t.shape) for t in lstm_states] == [(None, 3), (None, 3)] and [tuple(t.shape) for t in gru_states] == [(None, 2)]
    model = rkeras.Model(inp, [out, lstm_states[1], gru_states[0]])
    x = np.random.default_rng(6).normal(size=(2, 5, 4)).astype("float32")
    eager = layer(x)
    for got, want in zip(model.predict(x, verbose=0), [eager[0], eager[1][1], eager[2][0]]):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6)
    assert layer.compute_mask(inp, np.ones((2, 5), bool)) == [None, None, None]


@pytest.mark.parametrize("make", [lambda: layers.GRU(5), lambda: layers.GRU(5, reset_after=False), lambda: layers.SimpleRNN(5, go_backwards=True), lambda: layers.Bidirectional(layers.LSTM(3)), lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)]), lambda: layers.GRU(4, activation="swish")])
def test_masked_padding_never_changes_the_output(make):
    rkeras.utils.set_random_seed(1)
    model = rkeras.Sequential([rkeras.Input((None,), dtype="int64"), layers.Embedding(10, 4, mask_zero=True), make()])
    ids = np.array([[3, 1, 4, 1], [5, 9, 2, 0]])
    short = np.asarray(model.predict(ids, verbose=0))
    np.testing.assert_array_equal(np.asarray(model.predict(np.pad(ids, ((0, 0), (0, 5))), verbose=0)), short)


def test_embedding_weights_argument_and_input_length():
    matrix = np.arange(12, dtype="float32").reshape(6, 2)
    for weights in (matrix, [matrix]):
        layer = layers.Embedding(6, 2, weights=weights)
        assert layer.built
        np.testing.assert_array_equal(np.asarray(layer(np.array([[5, 1]]))), matrix[[[5, 1]]])
    with pytest.warns(UserWarning, match="`input_length` is deprecated"):
        layers.Embedding(6, 2, input_length=4)


def test_the_wrong_number_of_initial_states_is_a_value_error():
    x = np.ones((2, 5, 3), "float32")
    h = np.zeros((2, 2), "float32")
    with pytest.raises(ValueError, match="expects 2 initial state tensor\\(s\\).*received 1"):
        layers.LSTM(2)(x, initial_state=[h])
    with pytest.raises(ValueError, match="expects 3 initial state tensor\\(s\\).*received 2"):
        layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)])(x, initial_state=[h, h])
    with pytest.raises(ValueError, match="expects 1 initial state tensor\\(s\\).*received 2"):
        layers.Bidirectional(layers.GRU(2))(x, initial_state=[h, h, h])
    # Per cell (Keras's nesting) or flat, the right count works.
    out = layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)])(x, initial_state=[[h, h], [h]])
    assert tuple(out.shape) == (2, 2)
