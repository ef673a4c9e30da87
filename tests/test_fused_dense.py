"""The fused dense op: values against numpy, gradients against finite differences (float64)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import rkeras
from rkeras import ops
from rkeras.ops import _fused
from opcheck import finite_difference_check


def _reference(x, w, b, activation):
    z = x @ w + (0 if b is None else b)
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "softmax":
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    return z


@pytest.mark.parametrize("activation", _fused.FUSED_ACTIVATIONS)
@given(batch=st.lists(st.integers(1, 4), min_size=1, max_size=2), k=st.integers(1, 5), n=st.integers(1, 5), seed=st.integers(0, 99), use_bias=st.booleans())
def test_dense_matches_numpy_and_finite_differences(activation, batch, k, n, seed, use_bias):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=tuple(batch) + (k,))
    w = rng.uniform(-1, 1, size=(k, n))
    b = rng.uniform(-1, 1, size=(n,)) if use_bias else None
    got = np.asarray(_fused.dense(x, w, b, activation))
    np.testing.assert_allclose(got, _reference(x, w, b, activation), rtol=1e-10, atol=1e-12)
    got32 = np.asarray(_fused.dense(x.astype("float32"), w.astype("float32"), None if b is None else b.astype("float32"), activation))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, _reference(x, w, b, activation), rtol=1e-4, atol=1e-5)
    # Keep relu's inputs away from the kink for the finite differences.
    if activation == "relu":
        z = x @ w + (0 if b is None else b)
        if np.min(np.abs(z)) < 1e-3:
            return
    args = [x, w] if b is None else [x, w, b]
    finite_difference_check(lambda *t: _fused.dense(t[0], t[1], t[2] if len(t) > 2 else None, activation), args)


def test_dense_records_one_backward_node_and_matches_unfused_gradients():
    rng = np.random.default_rng(0)
    x = rkeras.Tensor(rng.normal(size=(6, 4)))
    w = rkeras.Variable(rng.normal(size=(4, 3)))
    b = rkeras.Variable(rng.normal(size=(3,)))
    with rkeras.GradientTape(persistent=True) as tape:
        fused = ops.sum(ops.square(_fused.dense(x, w, b, "tanh")))
        unfused = ops.sum(ops.square(ops.tanh(ops.add(ops.matmul(x, w), b))))
    for g1, g2 in zip(tape.gradient(fused, [w, b]), tape.gradient(unfused, [w, b])):
        np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-12)


def test_dense_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="last dimension"):
        _fused.dense(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="bias"):
        _fused.dense(np.ones((2, 4)), np.ones((4, 5)), np.ones(4))
    with pytest.raises(ValueError, match="unsupported fused activation"):
        _fused.dense(np.ones((2, 4)), np.ones((4, 5)), None, "gelu")
