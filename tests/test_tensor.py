import gc

import numpy as np
import pytest

import rkeras
from rkeras import ops


def test_from_numpy_is_zero_copy_for_contiguous_supported_arrays():
    for dtype in ("float32", "float64", "int64"):
        a = np.arange(12, dtype=dtype).reshape(3, 4)
        t = rkeras.Tensor(a)
        assert t._data_ptr == a.ctypes.data, dtype
        assert t.shape == (3, 4) and t.dtype == dtype


def test_from_numpy_copies_when_it_must():
    a = np.arange(12, dtype="float32").reshape(3, 4)
    t = rkeras.Tensor(a.T)  # not C-contiguous
    assert t._data_ptr != a.ctypes.data
    np.testing.assert_array_equal(np.asarray(t), a.T)
    t = rkeras.Tensor(np.arange(4, dtype="int32"))  # converted to int64
    assert t.dtype == "int64"
    t = rkeras.Tensor(np.arange(4, dtype="float16"))
    assert t.dtype == "float32"
    assert rkeras.Tensor([1.0, 2.0]).dtype == "float32"  # Python floats: Keras floatx
    assert rkeras.Tensor([1, 2]).dtype == "int64"
    assert rkeras.Tensor(np.array([True, False])).dtype == "bool"


def test_numpy_export_shares_the_buffer_and_keeps_it_alive():
    t = ops.add(np.ones((2, 3), "float32"), 1.0)
    a = t.numpy()
    assert a.ctypes.data == t._data_ptr
    assert not a.flags.writeable  # tensors are immutable
    del t
    gc.collect()
    np.testing.assert_array_equal(a, np.full((2, 3), 2.0))
    c = np.array(ops.add(np.ones(2), 1.0))  # np.array asks for a copy: writable
    assert c.flags.writeable
    c[0] = 5.0


def test_views_export_with_strides():
    x = rkeras.Tensor(np.arange(6, dtype="float64").reshape(2, 3))
    xt = x.T
    a = np.asarray(xt)
    assert a.ctypes.data == x._data_ptr  # transposed view, no copy
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3).T)
    b = np.asarray(ops.broadcast_to(np.arange(3.0), (4, 3)))
    np.testing.assert_array_equal(b, np.broadcast_to(np.arange(3.0), (4, 3)))


def test_scalar_conversions_and_repr():
    t = rkeras.Tensor(np.array(2.5, "float32"))
    assert float(t) == 2.5 and int(t) == 2 and bool(t)
    assert "shape=(), dtype=float32" in repr(t)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(rkeras.Tensor(np.ones(2)))
    assert len(rkeras.Tensor(np.ones((4, 2)))) == 4


def test_operators_match_numpy():
    a = np.arange(1, 7, dtype="float64").reshape(2, 3)
    b = np.array([0.5, 2.0, -1.0])
    ta, tb = rkeras.Tensor(a), rkeras.Tensor(b)
    for got, want in [(ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b),
                      (1 - ta, 1 - a), (2 / ta, 2 / a), (-ta, -a), (ta @ ta.T, a @ a.T), (b @ ta.T, b @ a.T)]:
        np.testing.assert_allclose(np.asarray(got), want)


def test_variables():
    v = rkeras.Variable(np.zeros((2,), "float32"), name="w")
    assert v.name == "w" and v.shape == (2,) and v.dtype == "float32" and v.trainable
    v.assign([1.0, 2.0])
    v.assign_add(np.ones(2))
    v.assign_sub(rkeras.Tensor(np.array([0.5, 0.5], "float32")))
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    np.testing.assert_array_equal(np.asarray(v * 2), [3.0, 5.0])
    np.testing.assert_array_equal(np.asarray(1 + v), [2.5, 3.5])
    with pytest.raises(ValueError, match="must match"):
        v.assign(np.zeros(3))
    w = rkeras.Variable(lambda shape, dtype: np.full(shape, 0.5, dtype), shape=(2, 2), dtype="float64")
    assert w.dtype == "float64" and float(w.numpy()[1, 1]) == 0.5
    with pytest.raises(ValueError, match="shape"):
        rkeras.Variable(lambda shape, dtype: np.zeros(shape))
    arr = v.numpy()
    arr[0] = 100.0  # a copy: the variable is unchanged
    assert v.numpy()[0] == 1.5


def test_variables_copy_the_arrays_they_are_given():
    # As in Keras: writing the array afterwards does not change the variable.
    a = np.ones(3, np.float32)
    v = rkeras.Variable(a)
    b = np.full(3, 2.0, np.float32)
    a[0] = 5.0
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0, 1.0])
    v.assign(b)
    b[1] = 7.0
    np.testing.assert_array_equal(v.numpy(), [2.0, 2.0, 2.0])
    layer = rkeras.layers.Dense(2)
    layer.build((None, 3))
    kernel = np.ones((3, 2), np.float32)
    layer.set_weights([kernel, np.zeros(2, np.float32)])
    kernel[0, 0] = 9.0
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones((3, 2)))


def test_thread_settings():
    n = rkeras.config.get_num_threads()
    rkeras.config.set_num_threads(1)
    assert rkeras.config.get_num_threads() == 1
    rkeras.config.set_num_threads(0)
    assert rkeras.config.get_num_threads() == n
    with pytest.raises(ValueError):
        rkeras.config.set_num_threads(-1)
    assert rkeras.config.simd_path() in ("avx512", "avx2", "scalar")


def test_zero_dim_arrays_of_copied_dtypes_keep_their_shape():
    # int32/float16/bool arrays are copied on the way in; a 0-d one must stay 0-d.
    for value in (np.asarray(np.int32(9)), np.asarray(np.float16(2.0)), np.asarray(True)):
        assert rkeras.Tensor(value).shape == ()
    v = rkeras.Variable(np.zeros((), np.int64))
    v.assign(np.asarray(np.int32(9)))
    assert int(v.numpy()) == 9
