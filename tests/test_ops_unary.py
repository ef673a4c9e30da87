import math

import numpy as np
import pytest

import rkeras
from rkeras import ops
from opcheck import op_test

erf = np.vectorize(math.erf, otypes=[np.float64])
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _f32(ref):
    """Reference evaluated in float64 and rounded to the input's dtype (numpy has no erf)."""
    return lambda x: ref(np.asarray(x, np.float64)).astype(np.asarray(x).dtype)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(x, 0)


test_exp = op_test(ops.exp, np.exp)
test_abs = op_test(ops.abs, np.abs, avoid=(0,))
test_square = op_test(ops.square, np.square)
test_sqrt = op_test(ops.sqrt, np.sqrt, lo=0.1, hi=4.0)
test_log = op_test(ops.log, np.log, lo=0.1, hi=4.0)
test_log1p = op_test(ops.log1p, np.log1p, lo=-0.9, hi=3.0)
test_expm1 = op_test(ops.expm1, np.expm1)
test_sin = op_test(ops.sin, np.sin)
test_cos = op_test(ops.cos, np.cos)
test_tanh = op_test(ops.tanh, np.tanh)
test_sigmoid = op_test(ops.sigmoid, _sigmoid)
test_hard_sigmoid = op_test(ops.hard_sigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, lo=-5, hi=5, avoid=(-3, 3))
test_relu = op_test(ops.relu, lambda x: np.maximum(x, 0), avoid=(0,))
test_relu6 = op_test(ops.relu6, lambda x: np.clip(x, 0, 6), lo=-3, hi=8, avoid=(0, 6))
test_leaky_relu = op_test(ops.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x), avoid=(0,))
test_leaky_relu_slope = op_test(lambda x: ops.leaky_relu(x, negative_slope=0.01), lambda x: np.where(x >= 0, x, 0.01 * x), avoid=(0,))
test_elu = op_test(ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), avoid=(0,))
test_elu_alpha = op_test(lambda x: ops.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), avoid=(0,))
test_selu = op_test(ops.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), avoid=(0,))
test_gelu_tanh = op_test(ops.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))))
test_gelu_exact = op_test(lambda x: ops.gelu(x, approximate=False), _f32(lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2)))))
test_softplus = op_test(ops.softplus, _softplus)
test_softsign = op_test(ops.softsign, lambda x: x / (1 + np.abs(x)), avoid=(0,))
test_silu = op_test(ops.silu, lambda x: x * _sigmoid(x))
test_swish = op_test(ops.swish, lambda x: x * _sigmoid(x))
test_hard_silu = op_test(ops.hard_silu, lambda x: x * np.clip(x + 3, 0, 6) / 6, lo=-5, hi=5, avoid=(-3, 3))
test_hard_swish = op_test(ops.hard_swish, lambda x: x * np.clip(x + 3, 0, 6) / 6, lo=-5, hi=5, avoid=(-3, 3))
test_mish = op_test(ops.mish, lambda x: x * np.tanh(_softplus(x)))
test_log_sigmoid = op_test(ops.log_sigmoid, lambda x: -_softplus(-x))
test_sign = op_test(ops.sign, np.sign, avoid=(0,))
test_round = op_test(ops.round, np.round, grad=False)
test_round_decimals = op_test(lambda x: ops.round(x, decimals=1), lambda x: np.round(x, 1), grad=False)
test_clip = op_test(lambda x: ops.clip(x, -1.0, 2.0), lambda x: np.clip(x, -1.0, 2.0), avoid=(-1, 2))


def _np(x):
    return np.asarray(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([-inf, -1000.0, -1.0, 0.0, 1.0, 1000.0, inf], dtype)
    with np.errstate(all="ignore"):
        # Infinities and zeros exact; finite values to a few float32 ulp.
        np.testing.assert_allclose(_np(ops.exp(x)), np.exp(x), rtol=3e-7, atol=0)
        np.testing.assert_allclose(_np(ops.tanh(x)), [-1, -1, np.tanh(-1.0), 0, np.tanh(1.0), 1, 1], rtol=3e-7, atol=0)
        np.testing.assert_array_equal(_np(ops.sigmoid(x))[[0, 1, 3, 5, 6]], [0, 0, 0.5, 1, 1])
        np.testing.assert_array_equal(_np(ops.log(np.array([0.0, -1.0, inf, 1.0], dtype))), [-inf, nan, inf, 0])
        np.testing.assert_array_equal(_np(ops.log1p(np.array([-1.0, -2.0, inf], dtype))), [-inf, nan, inf])
        np.testing.assert_array_equal(_np(ops.expm1(np.array([-inf, inf, 0.0], dtype))), [-1, inf, 0])
        np.testing.assert_array_equal(_np(ops.softplus(x))[[0, 3, 6]], [0, np.log(dtype(2)), inf])
        np.testing.assert_array_equal(_np(ops.relu(x)), [0, 0, 0, 0, 1, 1000, inf])
        np.testing.assert_array_equal(_np(ops.gelu(x, approximate=False))[[1, 3, 5]], [0, 0, 1000])
        np.testing.assert_array_equal(_np(ops.gelu(x))[[1, 3, 5]], [0, 0, 1000])
    for f in [ops.exp, ops.log, ops.tanh, ops.sigmoid, ops.log1p, ops.expm1, ops.relu, ops.relu6, ops.gelu,
              ops.softplus, ops.silu, ops.mish, ops.elu, ops.selu, ops.leaky_relu, ops.abs, ops.sign, ops.round,
              ops.sqrt, ops.log_sigmoid, lambda v: ops.gelu(v, approximate=False), lambda v: ops.clip(v, 0, 1)]:
        out = _np(f(np.array([nan, 1.0], dtype)))
        assert out.dtype == dtype
        assert np.isnan(out[0]), f


def test_relu6_and_hard_ops_saturate():
    x = np.array([-10.0, -3.0, 0.0, 3.0, 6.0, 10.0])
    np.testing.assert_array_equal(_np(ops.relu6(x)), [0, 0, 0, 3, 6, 6])
    np.testing.assert_array_equal(_np(ops.hard_sigmoid(x)), [0, 0, 0.5, 1, 1, 1])
    np.testing.assert_array_equal(_np(ops.hard_silu(x)), [0, 0, 0, 3, 6, 10])


def test_round_half_to_even():
    x = np.array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.675], np.float64)
    np.testing.assert_array_equal(_np(ops.round(x)), [0, 2, 2, 4, -0, -2, -2, 3])
    np.testing.assert_array_equal(_np(ops.round(x.astype(np.float32))), np.round(x.astype(np.float32)))
    np.testing.assert_array_equal(_np(ops.round(np.array([125.0, 135.0]), decimals=-1)), [120, 140])
    i = np.array([15, 25, -15, 7])
    out = _np(ops.round(i, decimals=-1))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, np.round(i, -1))


def test_keras_constants_and_defaults():
    np.testing.assert_allclose(_np(ops.selu(np.array([1.0, -50.0]))), [SELU_SCALE, -SELU_SCALE * SELU_ALPHA], rtol=1e-15)
    np.testing.assert_allclose(_np(ops.leaky_relu(np.array([-1.0]))), [-0.2])
    np.testing.assert_allclose(_np(ops.elu(np.array([-50.0]))), [-1.0])
    # approximate=True is the default and differs from the erf form.
    x = np.array([1.0])
    assert _np(ops.gelu(x))[0] == _np(ops.gelu(x, approximate=True))[0]
    np.testing.assert_allclose(_np(ops.gelu(x, approximate=False)), [0.5 * (1 + math.erf(1 / math.sqrt(2)))], rtol=1e-15)
    assert abs(_np(ops.gelu(x))[0] - _np(ops.gelu(x, approximate=False))[0]) > 1e-5
    np.testing.assert_allclose(_np(ops.swish(x)), _np(ops.silu(x)))
    np.testing.assert_allclose(_np(ops.hard_swish(x)), _np(ops.hard_silu(x)))


def test_int_and_bool_inputs():
    i = np.array([-3, 0, 4], np.int64)
    for f, ref in [(ops.abs, np.abs), (ops.square, np.square), (ops.sign, np.sign)]:
        out = _np(f(i))
        assert out.dtype == np.int64, f
        np.testing.assert_array_equal(out, ref(i))
    out = _np(ops.clip(i, 0, 2))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 0, 2])
    out = _np(ops.clip(i, 0.5, 2))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.5, 0.5, 2])
    for f in [ops.sqrt, ops.exp, ops.tanh, ops.sigmoid, ops.relu, ops.gelu, ops.log]:
        out = _np(f(i))
        assert out.dtype == np.float32, f
    np.testing.assert_allclose(_np(ops.sigmoid(i)), 1 / (1 + np.exp(-i.astype(np.float32))), rtol=1e-6)
    assert _np(ops.abs(np.array([True, False]))).dtype == np.int64


def test_abs_operator_and_variable():
    t = rkeras.Tensor(np.array([-1.5, 2.0]))
    np.testing.assert_array_equal(_np(abs(t)), [1.5, 2.0])
    v = rkeras.Variable(np.array([-1.5, 2.0]))
    np.testing.assert_array_equal(_np(abs(v)), [1.5, 2.0])


def test_sign_gradient_is_zero_and_round_has_none():
    x = rkeras.Tensor(np.array([-1.0, 2.0]))
    with rkeras.GradientTape(persistent=True) as tape:
        tape.watch(x)
        s = ops.sum(ops.sign(x))
        r = ops.sum(ops.round(x))
    np.testing.assert_array_equal(_np(tape.gradient(s, x)), [0.0, 0.0])
    assert tape.gradient(r, x) is None


def test_bad_arguments():
    with pytest.raises(TypeError):
        ops.gelu(np.ones(2), approximate="yes please")
    with pytest.raises(TypeError):
        ops.clip(np.ones(2), "a", 1.0)
    with pytest.raises(TypeError):
        ops.leaky_relu(np.ones(2), negative_slope=None)


def _edge_values():
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.normal(0, 3, 4000),
        rng.normal(0, 30, 3000),
        np.exp(rng.uniform(-100, 88, 2976)) * rng.choice([-1, 1], 2976),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-38, 88.72, 88.73, -87.4, -103.9, -104.5,
         3.0, -3.0, 6.0, 0.5, -0.5, 2.5, 9.1, -9.1, 20.0, 3.4e38, -3.4e38],
    ])
    return x[:10000].astype(np.float32)


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "expm1", "tanh", "sigmoid", "gelu", "gelu_exact", "softplus",
                                  "silu", "mish", "elu", "selu", "log_sigmoid", "relu", "sqrt", "sin"])
def test_simd_and_scalar_paths_identical(name):
    f = {"gelu_exact": lambda v: ops.gelu(v, approximate=False)}.get(name) or getattr(ops, name)
    x = _edge_values()
    assert x.size == 10000
    fast = _np(f(x)).copy()
    rkeras._core._set_simd_scalar(True)
    try:
        slow = _np(f(x)).copy()
    finally:
        rkeras._core._set_simd_scalar(False)
    # Bit for bit, except that a NaN's sign/payload is not meaningful (it follows operand order).
    nan = np.isnan(fast)
    np.testing.assert_array_equal(nan, np.isnan(slow))
    np.testing.assert_array_equal(fast[~nan].view(np.uint32), slow[~nan].view(np.uint32))


@pytest.mark.parametrize("name,ref", [
    ("exp", np.exp), ("log", np.log), ("log1p", np.log1p), ("expm1", np.expm1), ("tanh", np.tanh),
    ("sigmoid", _sigmoid), ("softplus", _softplus), ("log_sigmoid", lambda x: -_softplus(-x)),
    ("gelu", lambda x: x * _sigmoid(2 * np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ("gelu_exact", lambda x: 0.5 * x * np.vectorize(math.erfc, otypes=[np.float64])(-x / np.sqrt(2))),
])
def test_float32_accuracy_over_wide_range(name, ref):
    """The fast float32 kernels against a float64 reference far beyond the op_test range."""
    f = {"gelu_exact": lambda v: ops.gelu(v, approximate=False)}.get(name) or getattr(ops, name)
    x = _edge_values()
    x = x[np.isfinite(x)]
    with np.errstate(all="ignore"):
        expected = ref(x.astype(np.float64))
    keep = np.isfinite(expected) & (np.abs(expected) < 3e38)
    got = _np(f(x)).astype(np.float64)
    # Relative 2e-5, absolute only below float32's normal range.
    np.testing.assert_allclose(got[keep], expected[keep], rtol=2e-5, atol=1.2e-38)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
