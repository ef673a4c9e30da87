import numpy as np
import pytest

import rkeras
from rkeras import ops


def test_gradient_of_a_composite_function():
    x = rkeras.Tensor(np.array([1.0, 2.0, 3.0]))
    with rkeras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.multiply(x, x) * 3.0 + x)
    np.testing.assert_allclose(np.asarray(tape.gradient(y, x)), 6 * np.array([1.0, 2.0, 3.0]) + 1)


def test_trainable_variables_are_watched_automatically():
    w = rkeras.Variable(np.array([2.0, -1.0]))
    frozen = rkeras.Variable(np.array([1.0, 1.0]), trainable=False)
    with rkeras.GradientTape() as tape:
        y = ops.sum(w * frozen * w)
    gw, gf = tape.gradient(y, [w, frozen])
    np.testing.assert_allclose(np.asarray(gw), [4.0, -2.0])
    assert gf is None  # not watched
    with rkeras.GradientTape(watch_accessed_variables=False) as tape:
        y = ops.sum(w * w)
    assert tape.gradient(y, w) is None


def test_unconnected_sources_and_nested_structures():
    a = rkeras.Variable(np.ones(2))
    b = rkeras.Variable(np.ones(3))
    with rkeras.GradientTape() as tape:
        y = ops.sum(a * 2.0)
    g = tape.gradient(y, {"a": a, "b": [b]})
    np.testing.assert_allclose(np.asarray(g["a"]), [2.0, 2.0])
    assert g["b"][0] is None
    with rkeras.GradientTape() as tape:
        y = ops.sum(a * 2.0)
    g = tape.gradient(y, [a, b], unconnected_gradients="zero")
    np.testing.assert_array_equal(np.asarray(g[1]), np.zeros(3))


def test_non_persistent_tape_is_single_use():
    x = rkeras.Variable(np.ones(2))
    with rkeras.GradientTape() as tape:
        y = ops.sum(x * x)
    tape.gradient(y, x)
    with pytest.raises(ValueError, match="only be called once"):
        tape.gradient(y, x)
    with rkeras.GradientTape(persistent=True) as tape:
        y = ops.sum(x * x)
        z = ops.sum(x * 3.0)
    np.testing.assert_allclose(np.asarray(tape.gradient(y, x)), [2.0, 2.0])
    np.testing.assert_allclose(np.asarray(tape.gradient(z, x)), [3.0, 3.0])


def test_nested_tapes_record_independently():
    x = rkeras.Variable(np.array(3.0))
    with rkeras.GradientTape() as outer:
        y = x * x
        with rkeras.GradientTape() as inner:
            z = y * x
        gi = inner.gradient(z, x)  # d(y*x)/dx with y treated as recorded by inner only from its start: y
    go = outer.gradient(z, x)
    assert float(gi) == pytest.approx(9.0)   # inner saw z = y * x with y constant
    assert float(go) == pytest.approx(27.0)  # outer saw z = x^3


def test_stop_recording_and_output_gradients():
    x = rkeras.Variable(np.array([1.0, 2.0]))
    with rkeras.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            c = x * 10.0
        z = y + c
    np.testing.assert_allclose(np.asarray(tape.gradient(z, x, output_gradients=np.array([1.0, 0.5]))), [2.0, 2.0])


def test_nothing_is_recorded_without_a_tape():
    # ops outside a tape are plain calls; a tape opened later does not see them
    x = rkeras.Variable(np.ones(2))
    y = x * 2.0
    with rkeras.GradientTape() as tape:
        z = ops.sum(y)
    assert tape.gradient(z, x) is None


def test_float32_gradients_stay_float32():
    w = rkeras.Variable(np.ones((3, 2), "float32"))
    x = np.ones((4, 3), "float32")
    with rkeras.GradientTape() as tape:
        y = ops.sum(ops.matmul(x, w))
    g = tape.gradient(y, w)
    assert g.dtype == "float32"
    np.testing.assert_allclose(np.asarray(g), np.full((3, 2), 4.0))
