"""One helper that turns an op into a property test: `test_exp = op_test(ops.exp, np.exp)`.

For random shapes (broadcasting ones for several inputs; size-1 and empty dimensions included)
and values, the generated test checks:
  * forward in float64 against the numpy reference (tight), and in float32 (float32 tolerance);
  * the tape gradient of sum(op(x) * w), with fixed random weights w, against central finite
    differences in float64, for every input (skipped with grad=False).
"""

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import rkeras
from rkeras import ops


def _values(shape, lo, hi, avoid, dtype=np.float64):
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)
    arrays = hnp.arrays(dtype, shape, elements=elements)
    if avoid:
        # Keep finite differences away from kinks (relu at 0, abs at 0, ...).
        arrays = arrays.map(lambda a: np.where(np.min([np.abs(a - k) for k in avoid], axis=0) < 1e-3, a + 0.01, a))
    return arrays


def finite_difference_check(fn, xs, eps=1e-6, rtol=1e-5, atol=1e-6):
    """Assert tape gradients of sum(fn(*xs) * w) equal central finite differences (float64 xs)."""
    xs = [np.asarray(x, np.float64) for x in xs]
    y0 = np.asarray(fn(*[rkeras.Tensor(x) for x in xs]))
    w = np.random.default_rng(1).uniform(0.5, 1.5, size=y0.shape)

    def loss(*arrays):
        return float(np.sum(np.asarray(fn(*[rkeras.Tensor(a) for a in arrays]), np.float64) * w))

    ts = [rkeras.Tensor(x) for x in xs]
    with rkeras.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        out = ops.sum(ops.multiply(ops.cast(fn(*ts), "float64"), rkeras.Tensor(w)))
    grads = tape.gradient(out, ts, unconnected_gradients="zero")
    for i, (x, g) in enumerate(zip(xs, grads)):
        g = np.asarray(g)
        assert g.shape == x.shape, f"gradient {i} has shape {g.shape}, expected {x.shape}"
        assert g.dtype == np.float64
        fd = np.zeros_like(x)
        for j in range(x.size):
            xp, xm = [a.copy() for a in xs], [a.copy() for a in xs]
            xp[i].flat[j] += eps
            xm[i].flat[j] -= eps
            fd.flat[j] = (loss(*xp) - loss(*xm)) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def op_test(fn, ref, arity=1, lo=-3.0, hi=3.0, grad=True, avoid=(), min_dims=0, max_dims=3, min_side=0,
            broadcast=True, f32_rtol=2e-5, f32_atol=1e-6, rtol=1e-10, atol=1e-12):
    """A hypothesis test of `fn` (rkeras) against `ref` (numpy) and of its gradients."""
    if arity == 1:
        shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4).map(lambda s: (s,))
    elif broadcast:
        shapes = hnp.mutually_broadcastable_shapes(num_shapes=arity, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4).map(lambda b: b.input_shapes)
    else:
        shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4).map(lambda s: (s,) * arity)

    @st.composite
    def inputs(draw):
        return [draw(_values(s, lo, hi, avoid)) for s in draw(shapes)]

    @given(inputs())
    def test(xs):
        expected = np.asarray(ref(*xs))
        got = np.asarray(fn(*[rkeras.Tensor(x) for x in xs]))
        assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
        x32 = [x.astype(np.float32) for x in xs]
        got32 = np.asarray(fn(*[rkeras.Tensor(x) for x in x32]))
        if np.issubdtype(expected.dtype, np.floating):
            assert got32.dtype == np.float32, f"float32 inputs gave {got32.dtype}"
        np.testing.assert_allclose(got32, np.asarray(ref(*x32)), rtol=f32_rtol, atol=f32_atol)
        if grad:
            finite_difference_check(fn, xs)

    return test
