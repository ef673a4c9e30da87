import math

import numpy as np
import pytest

import rkeras
from rkeras import ops
from opcheck import op_test

# Differentiable ops: forward vs numpy (f64, f32) and tape gradients vs finite differences.
test_power = op_test(ops.power, np.power, arity=2, lo=0.5, hi=2.0)
test_power_negative_base_square = op_test(lambda x: ops.power(x, 2), lambda x: np.power(x, 2))
test_power_negative_base_cube = op_test(lambda x: ops.power(x, 3.0), lambda x: np.power(x, 3.0))
# The shifted x2 makes ties (kinks, where finite differences are meaningless) rare.
test_maximum = op_test(lambda a, b: ops.maximum(a, b + 0.123), lambda a, b: np.maximum(a, b + 0.123), arity=2)
test_minimum = op_test(lambda a, b: ops.minimum(a, b + 0.123), lambda a, b: np.minimum(a, b + 0.123), arity=2)
# Irrational offsets keep x1 / x2 away from the integers where mod jumps.
test_mod = op_test(lambda a, b: ops.mod(a + 3 * math.pi, b + math.e), lambda a, b: np.mod(a + 3 * math.pi, b + math.e),
                   arity=2, lo=-2.0, hi=2.0)
# A random condition (c > 0, kept away from 0 so finite differences in c see no jump).
test_where = op_test(lambda c, a, b: ops.where(ops.greater(c, 0.0), a, b),
                     lambda c, a, b: np.where(c > 0.0, a, b), arity=3, avoid=(0.0,))

DTYPES = ["float32", "float64", "int64", "bool"]
COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]


def _array(dtype, shape, rng):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "int64":
        return rng.integers(-3, 4, shape)
    return rng.integers(-3, 4, shape).astype(dtype) / 2  # repeated values, so equality happens


@pytest.mark.parametrize("name", COMPARISONS)
@pytest.mark.parametrize("da,db", [(d, d) for d in DTYPES] + [("float32", "float64"), ("bool", "int64"), ("int64", "bool")])
def test_comparisons_match_numpy(name, da, db):
    rng = np.random.default_rng(0)
    a, b = _array(da, (3, 1, 4), rng), _array(db, (5, 1), rng)
    got = getattr(ops, name)(a, b)
    assert got.dtype == "bool"
    np.testing.assert_array_equal(np.asarray(got), getattr(np, name)(a, b))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_with_nan_and_scalars(name):
    a = np.array([np.nan, 1.0, 2.0, np.inf], "float32")
    np.testing.assert_array_equal(np.asarray(getattr(ops, name)(a, 1.0)), getattr(np, name)(a, np.float32(1.0)))
    np.testing.assert_array_equal(np.asarray(getattr(ops, name)(a, a[::-1].copy())), getattr(np, name)(a, a[::-1]))


@pytest.mark.parametrize("name", LOGICAL)
@pytest.mark.parametrize("da,db", [("bool", "bool"), ("float32", "int64"), ("float64", "bool"), ("int64", "int64")])
def test_logical_ops_match_numpy(name, da, db):
    rng = np.random.default_rng(1)
    a, b = _array(da, (2, 3), rng), _array(db, (3,), rng)
    if da.startswith("float"):
        a.flat[0] = np.nan  # NaN is nonzero, so true
    got = getattr(ops, name)(a, b)
    assert got.dtype == "bool"
    np.testing.assert_array_equal(np.asarray(got), getattr(np, name)(a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logical_not_matches_numpy(dtype):
    a = _array(dtype, (4, 3), np.random.default_rng(2))
    got = ops.logical_not(a)
    assert got.dtype == "bool"
    np.testing.assert_array_equal(np.asarray(got), np.logical_not(a))


@pytest.mark.parametrize("name,ref", [("floor_divide", np.floor_divide), ("mod", np.mod)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_floor_divide_and_mod_follow_numpy_signs(name, ref, dtype):
    a = np.array([7, -7, 7, -7, 0, 5, -5, 6], dtype)[:, None]
    b = np.array([2, -2, 3, -3], dtype)
    got = getattr(ops, name)(a, b)
    expected = ref(a, b)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)
    # Signed zeros as numpy gives them.
    np.testing.assert_array_equal(np.signbit(np.asarray(got)), np.signbit(expected))


def test_floor_divide_and_mod_by_zero_and_non_finite():
    with np.errstate(all="ignore"):
        a = np.array([1.0, -1.0, 0.0, np.inf, np.nan, 5.5], "float64")
        b = np.array([0.0, 0.0, 0.0, 2.0, 1.0, np.inf], "float64")
        np.testing.assert_array_equal(np.asarray(ops.floor_divide(a, b)), np.floor_divide(a, b))
        np.testing.assert_array_equal(np.asarray(ops.mod(a, b)), np.mod(a, b))
        i, z = np.array([5, -5, 0]), np.zeros(3, "int64")
        np.testing.assert_array_equal(np.asarray(ops.floor_divide(i, z)), np.floor_divide(i, z))
        np.testing.assert_array_equal(np.asarray(ops.mod(i, z)), np.mod(i, z))
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=1000) * 10, rng.normal(size=1000)
    np.testing.assert_array_equal(np.asarray(ops.floor_divide(x, y)), np.floor_divide(x, y))
    np.testing.assert_array_equal(np.asarray(ops.mod(x, y)), np.mod(x, y))


def test_integer_power_stays_int64_and_rejects_negative_exponents():
    a, b = np.array([3, -2, 0, 2, 7]), np.array([4, 3, 0, 62, 0])
    got = ops.power(a, b)
    assert got.dtype == "int64"
    np.testing.assert_array_equal(np.asarray(got), np.power(a, b))
    assert ops.power(a, 2.0).dtype == "float32"  # a float scalar makes it float (Keras floatx)
    assert ops.power(a.astype("float64"), b).dtype == "float64"
    with pytest.raises(ValueError, match="power.*negative integer powers.*-1"):
        ops.power(a, np.array([1, -1, 1, 1, 1]))


def test_power_special_values_match_numpy():
    with np.errstate(all="ignore"):
        a = np.array([0.0, 0.0, -8.0, -2.0, np.nan, 1.0, np.inf, 0.0])
        b = np.array([0.0, -1.0, 1 / 3, 0.5, 0.0, np.nan, -1.0, 0.5])
        np.testing.assert_array_equal(np.asarray(ops.power(a, b)), np.power(a, b))


def test_power_gradients_at_zero_and_negative_bases_are_finite():
    x, y = rkeras.Tensor(np.array([0.0, 0.0, -3.0, -2.0])), rkeras.Tensor(np.array([2.0, 0.0, 2.0, 3.0]))
    with rkeras.GradientTape() as tape:
        tape.watch(x)
        tape.watch(y)
        out = ops.sum(ops.power(x, y))
    gx, gy = tape.gradient(out, [x, y])
    np.testing.assert_allclose(np.asarray(gx), [0.0, 0.0, -6.0, 12.0])
    np.testing.assert_array_equal(np.asarray(gy), [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_maximum_minimum_propagate_nan(name, dtype):
    a = np.array([np.nan, 1.0, np.nan, 3.0, -np.inf], dtype)
    b = np.array([1.0, np.nan, np.nan, 2.0, np.nan], dtype)
    got = getattr(ops, name)(a, b)
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.asarray(got), getattr(np, name)(a, b))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_dtypes_and_ties(name):
    a, b = np.array([1, 5, 2]), np.array([[3], [2]])
    got = getattr(ops, name)(a, b)
    assert got.dtype == "int64"
    np.testing.assert_array_equal(np.asarray(got), getattr(np, name)(a, b))
    assert getattr(ops, name)(np.array([True, False]), np.array([False, False])).dtype == "int64"
    # Ties send the whole gradient to x1, as TensorFlow.
    x1, x2 = rkeras.Tensor(np.array([1.0, 2.0])), rkeras.Tensor(np.array([1.0, 0.0]))
    with rkeras.GradientTape() as tape:
        tape.watch(x1)
        tape.watch(x2)
        out = ops.sum(getattr(ops, name)(x1, x2))
    g1, g2 = tape.gradient(out, [x1, x2])
    np.testing.assert_array_equal(np.asarray(g1), [1.0, 1.0 if name == "maximum" else 0.0])
    np.testing.assert_array_equal(np.asarray(g2), [0.0, 0.0 if name == "maximum" else 1.0])


@pytest.mark.parametrize("da,db", [("float32", "float32"), ("float32", "float64"), ("int64", "int64"), ("bool", "bool"),
                                   ("bool", "int64")])
def test_where_dtypes_and_broadcasting_match_numpy(da, db):
    rng = np.random.default_rng(4)
    c = rng.normal(size=(2, 1, 3))
    c[0, 0, 0] = np.nan  # nonzero: true
    a, b = _array(da, (4, 1), rng), _array(db, (3,), rng)
    got = ops.where(c, a, b)
    expected = np.where(c.astype(bool), a, b)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


def test_where_with_scalar_branches():
    got = ops.where(np.array([True, False, True]), 1.5, 0.0)
    assert got.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(got), [1.5, 0.0, 1.5])


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2), (0, 3)])
def test_where_without_branches_gives_nonzero_indices(shape):
    x = np.random.default_rng(5).integers(-1, 2, shape)
    got = ops.where(x)
    expected = np.nonzero(x)
    assert isinstance(got, tuple) and len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == "int64"
        np.testing.assert_array_equal(np.asarray(g), e)


def test_where_bad_arguments():
    with pytest.raises(ValueError, match="where.*x1 and x2"):
        ops.where(np.array([True]), 1.0)
    with pytest.raises(ValueError, match="where.*at least one dimension"):
        ops.where(True)


@pytest.mark.parametrize("name", ["power", "maximum", "minimum", "floor_divide", "mod"] + COMPARISONS + LOGICAL)
def test_mismatched_shapes_name_the_op_and_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}.*\[2, 3\].*\[4\]"):
        getattr(ops, name)(np.ones((2, 3)), np.ones(4))


def test_where_mismatched_shapes():
    with pytest.raises(ValueError, match=r"where.*\[3\].*\[4\]"):
        ops.where(np.ones(3, bool), np.ones(3), np.ones(4))


@pytest.mark.parametrize("wrap", [rkeras.Tensor, rkeras.Variable], ids=["Tensor", "Variable"])
def test_operators(wrap):
    a = np.array([1.0, -2.0, 3.5, 4.0])
    t = wrap(a)
    cases = [
        (t ** 2, a ** 2), (2.0 ** t, 2.0 ** a), (t ** t, a ** a),
        (t % 3.0, a % 3.0), (7.0 % t, 7.0 % a), (t // 2.0, a // 2.0), (7.0 // t, 7.0 // a),
        (t < 2.0, a < 2.0), (t <= 3.5, a <= 3.5), (t > 1.0, a > 1.0), (t >= 3.5, a >= 3.5),
        (t == 4.0, a == 4.0), (t != 4.0, a != 4.0), (2.0 < t, 2.0 < a), (t == list(a), a == a),
    ]
    for got, expected in cases:
        assert isinstance(got, rkeras.Tensor)
        assert got.dtype == np.asarray(expected).dtype.name, (got, expected)
        np.testing.assert_array_equal(np.asarray(got), expected)
    m, n = t > 0.0, t < 3.7
    np.testing.assert_array_equal(np.asarray(m & n), (a > 0) & (a < 3.7))
    np.testing.assert_array_equal(np.asarray(m | n), (a > 0) | (a < 3.7))
    np.testing.assert_array_equal(np.asarray(m ^ n), (a > 0) ^ (a < 3.7))
    np.testing.assert_array_equal(np.asarray(~m), ~(a > 0))
    np.testing.assert_array_equal(np.asarray(True & m), a > 0)
    b = wrap(a > 0)
    np.testing.assert_array_equal(np.asarray(~b), ~(a > 0))
    np.testing.assert_array_equal(np.asarray(b ^ True), ~(a > 0))


@pytest.mark.parametrize("wrap", [rkeras.Tensor, rkeras.Variable], ids=["Tensor", "Variable"])
def test_operator_edge_cases(wrap):
    t = wrap(np.array([1.0, 2.0]))
    assert (t == None) is False  # noqa: E711 (non-array-like: NotImplemented, then identity)
    assert (t != None) is True  # noqa: E711
    assert (t == "text") is False
    assert hash(t) == hash(t) and {t: 1}[t] == 1 and t in {t}
    assert wrap(np.array([1.0, 2.0])) is not t and hash(wrap(np.array([1.0]))) != hash(t)
    with pytest.raises(TypeError, match="operator &.*bool"):
        t & t
    with pytest.raises(TypeError, match="operator ~.*bool"):
        ~t
    with pytest.raises(TypeError):
        t < None
    with pytest.raises(ValueError, match=r"less.*\[2\].*\[3\]"):
        t < np.ones(3)
    with pytest.raises(TypeError, match="modulus"):
        pow(rkeras.Tensor(np.array([2.0])), 2, 3)


def test_numpy_on_the_left_defers_to_tensor_comparisons():
    t = rkeras.Tensor(np.array([1.0, 2.0], "float32"))
    got = np.array([2.0, 2.0], "float32") > t
    assert isinstance(got, rkeras.Tensor)
    np.testing.assert_array_equal(np.asarray(got), [True, False])


def test_operators_record_gradients_on_tensors_and_variables():
    v = rkeras.Variable(np.array([1.5, 2.0]))
    x = rkeras.Tensor(np.array([0.5, 3.0]))
    with rkeras.GradientTape() as tape:
        tape.watch(x)
        out = ops.sum(v ** 2 + x ** v + (x % 2.0) + ops.where(x > 1.0, v, x))
    gv, gx = tape.gradient(out, [v, x])
    vv, xv = np.array([1.5, 2.0]), np.array([0.5, 3.0])
    np.testing.assert_allclose(np.asarray(gv), 2 * vv + xv ** vv * np.log(xv) + (xv > 1.0))
    np.testing.assert_allclose(np.asarray(gx), vv * xv ** (vv - 1) + 1.0 + (xv <= 1.0))
