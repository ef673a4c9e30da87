import numpy as np
import pytest

import rkeras
from rkeras import ops
from opcheck import finite_difference_check, op_test


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


test_mean = op_test(ops.mean, np.mean, min_dims=0)
test_mean_axis = op_test(lambda x: ops.mean(x, axis=-1, keepdims=True), lambda x: np.mean(x, axis=-1, keepdims=True), min_dims=1)
test_max = op_test(lambda x: ops.max(x, axis=0), lambda x: np.max(x, axis=0), min_dims=1, min_side=1, grad=False)  # ties: see below
test_min_axes = op_test(lambda x: ops.min(x, axis=(0, 2), keepdims=True), lambda x: np.min(x, axis=(0, 2), keepdims=True), min_dims=3, min_side=1, grad=False)
test_prod = op_test(lambda x: ops.prod(x, axis=-1), lambda x: np.prod(x, axis=-1), min_dims=1, lo=-1.5, hi=1.5)
test_var = op_test(lambda x: ops.var(x, axis=-1), lambda x: np.var(x, axis=-1), min_dims=1, f32_atol=1e-5)
test_std = op_test(lambda x: ops.std(x, axis=0), lambda x: np.std(x, axis=0), min_dims=1, min_side=1, grad=False)
test_logsumexp = op_test(lambda x: ops.logsumexp(x, axis=-1), lambda x: np_logsumexp(x, axis=-1), min_dims=1, min_side=1)
test_softmax = op_test(ops.softmax, np_softmax, min_dims=1, f32_rtol=1e-5, min_side=1)
test_softmax_axis0 = op_test(lambda x: ops.softmax(x, axis=0), lambda x: np_softmax(x, axis=0), min_dims=2, min_side=1)
test_log_softmax = op_test(ops.log_softmax, np_log_softmax, min_dims=1, f32_atol=1e-5, min_side=1)


def test_max_min_over_distinct_values_have_exact_gradients():
    rng = np.random.default_rng(0)
    x = rng.permutation(24).reshape(2, 3, 4).astype(np.float64) / 7.0  # distinct: no ties
    for axis in (None, 0, 1, (0, 2)):
        finite_difference_check(lambda t: ops.max(t, axis=axis), [x])
        finite_difference_check(lambda t: ops.min(t, axis=axis, keepdims=True), [x])
    np.testing.assert_array_equal(np.asarray(ops.max(np.zeros((0, 3)), axis=0, initial=-5.0)), np.full(3, -5.0))
    with pytest.raises(ValueError, match="max: zero-size array"):
        ops.max(np.zeros((0,)))


def test_std_gradient_away_from_constant_rows():
    x = np.array([[0.5, -1.0, 2.0], [1.0, 3.0, -2.0]])
    finite_difference_check(lambda t: ops.std(t, axis=-1), [x])


def test_argmax_argmin_follow_numpy():
    x = np.array([[1.0, 5.0, 5.0], [-2.0, np.nan, 0.0]])
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(np.asarray(ops.argmax(x, axis=axis)), np.argmax(x, axis=axis))
        np.testing.assert_array_equal(np.asarray(ops.argmin(x, axis=axis)), np.argmin(x, axis=axis))
    assert ops.argmax(x, axis=1).dtype == "int64"
    assert ops.argmax(x, axis=1, keepdims=True).shape == (2, 1)
    with pytest.raises(ValueError, match="argmax"):
        ops.argmax(np.zeros((0,)))


def test_softmax_is_stable_and_normalized():
    x = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], np.float32)
    y = np.asarray(ops.softmax(x))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.log_softmax(x))[0], [0.0, -1e4, -2e4], rtol=1e-6)


def np_cce(t, p, axis=-1):
    p = p / p.sum(axis=axis, keepdims=True)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.sum(t * np.log(p), axis=axis)


def test_categorical_crossentropy_matches_keras_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4))
    t = np_softmax(rng.normal(size=(5, 4)))
    p = np_softmax(logits)
    p[0] = [1.0, 0.0, 0.0, 0.0]  # exercises clipping
    np.testing.assert_allclose(np.asarray(ops.categorical_crossentropy(t, p)), np_cce(t, p), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ops.categorical_crossentropy(t, logits, from_logits=True)),
                               -np.sum(t * np_log_softmax(logits), axis=-1), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ops.categorical_crossentropy(t.T, logits.T, from_logits=True, axis=0)),
                               -np.sum(t * np_log_softmax(logits), axis=-1), rtol=1e-12)
    finite_difference_check(lambda a, b: ops.categorical_crossentropy(a, b, from_logits=True), [t, logits])
    finite_difference_check(lambda a, b: ops.categorical_crossentropy(a, b), [t, np_softmax(logits)])
    with pytest.raises(ValueError, match=r"categorical_crossentropy: .*\(5, 4\)|\[5, 4\].*\[5, 3\]"):
        ops.categorical_crossentropy(t, logits[:, :3])


def test_sparse_categorical_crossentropy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 5))
    y = rng.integers(0, 5, size=6)
    expected = -np_log_softmax(logits)[np.arange(6), y]
    np.testing.assert_allclose(np.asarray(ops.sparse_categorical_crossentropy(y, logits, from_logits=True)), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ops.sparse_categorical_crossentropy(y[:, None], logits, from_logits=True)), expected, rtol=1e-12)
    p = np_softmax(logits)
    np.testing.assert_allclose(np.asarray(ops.sparse_categorical_crossentropy(y.astype("float32"), p)),
                               np_cce(np.eye(5)[y], p), rtol=1e-12)
    finite_difference_check(lambda z: ops.sparse_categorical_crossentropy(y, z, from_logits=True), [logits])
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy: .*label value of 5"):
        ops.sparse_categorical_crossentropy(np.array([5, 0, 0, 0, 0, 0]), logits, from_logits=True)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        ops.sparse_categorical_crossentropy(y[:4], logits)


def test_binary_crossentropy():
    rng = np.random.default_rng(2)
    z = rng.uniform(size=(4, 3))
    x = rng.normal(size=(4, 3)) * 3
    p = 1 / (1 + np.exp(-x))
    p[0, 0], p[0, 1] = 0.0, 1.0
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(np.asarray(ops.binary_crossentropy(z, p)), -(z * np.log(pc) + (1 - z) * np.log(1 - pc)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ops.binary_crossentropy(z, x, from_logits=True)),
                               np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x))), rtol=1e-12)
    assert np.isfinite(np.asarray(ops.binary_crossentropy(np.ones(2, "float32"), np.array([1e4, -1e4], "float32"), from_logits=True))).all()
    finite_difference_check(lambda a, b: ops.binary_crossentropy(a, b, from_logits=True), [z, x])
    finite_difference_check(lambda a, b: ops.binary_crossentropy(a, b), [z, 1 / (1 + np.exp(-x))])


def test_regression_losses():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(np.asarray(ops.mean_squared_error(a, b)), np.mean((b - a) ** 2, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ops.mean_absolute_error(a, b)), np.mean(np.abs(b - a), axis=-1), rtol=1e-12)
    finite_difference_check(ops.mean_squared_error, [a, b])
    finite_difference_check(ops.mean_absolute_error, [a, b])


def test_reductions_do_not_depend_on_the_thread_count():
    x = np.random.default_rng(4).normal(size=(1000, 1000)).astype(np.float32)
    results = []
    for n in (1, 0):
        rkeras.config.set_num_threads(n)
        results.append([np.asarray(f(x)).copy() for f in (ops.sum, ops.mean, lambda v: ops.sum(v, axis=0), ops.softmax, ops.logsumexp)])
    rkeras.config.set_num_threads(0)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_bad_axes():
    with pytest.raises(ValueError, match="mean: axis 2 is out of bounds"):
        ops.mean(np.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="softmax: axis"):
        ops.softmax(np.ones((2, 2)), axis=5)
