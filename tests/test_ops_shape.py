import numpy as np
import pytest

import rkeras
from rkeras import ops
from opcheck import finite_difference_check, op_test

test_expand_dims = op_test(lambda x: ops.expand_dims(x, 0), lambda x: np.expand_dims(x, 0))
test_expand_dims_last = op_test(lambda x: ops.expand_dims(x, (-1, 1)), lambda x: np.expand_dims(x, (-1, 1)), min_dims=1)
test_squeeze = op_test(lambda x: ops.squeeze(ops.expand_dims(x, 1), axis=1), lambda x: x, min_dims=1)
test_concatenate = op_test(lambda a, b: ops.concatenate([a, b, a], axis=-1), lambda a, b: np.concatenate([a, b, a], axis=-1),
                           arity=2, broadcast=False, min_dims=1)
test_stack = op_test(lambda a, b: ops.stack([a, b], axis=0), lambda a, b: np.stack([a, b], axis=0), arity=2, broadcast=False)
test_flip = op_test(ops.flip, np.flip)
test_tile = op_test(lambda x: ops.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1)))
test_repeat = op_test(lambda x: ops.repeat(x, 2, axis=0), lambda x: np.repeat(x, 2, axis=0), min_dims=1)
test_repeat_flat = op_test(lambda x: ops.repeat(x, 3), lambda x: np.repeat(x, 3))
test_pad = op_test(lambda x: ops.pad(x, 1, constant_values=0.5), lambda x: np.pad(x, 1, constant_values=0.5))
test_reversed_slice = op_test(lambda x: x[::-2], lambda x: x[::-2], min_dims=1)
test_strided_view = op_test(lambda x: x[..., 1::2], lambda x: x[..., 1::2], min_dims=1)
test_take = op_test(lambda x: ops.take(x, np.array([0, -1, 0]), axis=0), lambda x: np.take(x, [0, -1, 0], axis=0), min_dims=1, min_side=1)
test_dot = op_test(lambda a, b: ops.dot(a, ops.reshape(b, (-1, 1))), lambda a, b: np.dot(a, np.reshape(b, (-1, 1))),
                   arity=2, broadcast=False, min_dims=1, max_dims=1)

X = np.arange(24.0).reshape(2, 3, 4)
S = np.s_
INDEX_TABLE = [1, -1, S[0, 1], S[:, 1], S[..., ::-1], S[None, 0, ::2], S[[0, 1, 1]], S[0, [2, 0]], S[1, ..., None],
               S[-1, -2, -3], S[:, 1:3, ::2], S[:, ::-1, 1:], S[..., 0], S[1:1], S[:, [0, 0, 2], 1]]


@pytest.mark.parametrize("key", INDEX_TABLE, ids=[repr(k) for k in INDEX_TABLE])
def test_getitem_matches_numpy_values_and_gradients(key):
    np.testing.assert_array_equal(np.asarray(rkeras.Tensor(X)[key]), X[key])
    if X[key].size:
        finite_difference_check(lambda t: t[key], [X / 7.0])


def test_boolean_mask_and_tensor_indices():
    x = rkeras.Tensor(X)
    m = X > 10
    np.testing.assert_array_equal(np.asarray(x[m]), X[m])
    np.testing.assert_array_equal(np.asarray(x[rkeras.Tensor(np.array([1, 0]))]), X[[1, 0]])
    finite_difference_check(lambda t: t[np.array([True, False])], [X / 3.0])


def test_views_share_the_buffer():
    x = rkeras.Tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    assert x[1]._data_ptr == x._data_ptr + 12 * 4
    assert x[:, 1:, ::2]._data_ptr == x._data_ptr + 4 * 4
    assert ops.expand_dims(x, 0)._data_ptr == x._data_ptr
    assert ops.squeeze(ops.expand_dims(x, 0))._data_ptr == x._data_ptr
    assert ops.split(x, 2, axis=0)[1]._data_ptr == x._data_ptr + 12 * 4


def test_split_and_slice():
    parts = ops.split(X, 3, axis=1)
    for p, q in zip(parts, np.split(X, 3, axis=1)):
        np.testing.assert_array_equal(np.asarray(p), q)
    for p, q in zip(ops.split(X, [1, 3], axis=-1), np.split(X, [1, 3], axis=-1)):
        np.testing.assert_array_equal(np.asarray(p), q)
    np.testing.assert_array_equal(np.asarray(ops.slice(X, (1, 0, 2), (1, 2, 2))), X[1:2, 0:2, 2:4])
    finite_difference_check(lambda t: ops.split(t, [1], axis=2)[1], [X / 5.0])
    with pytest.raises(ValueError, match="equal division"):
        ops.split(X, 5, axis=2)


def test_take_and_one_hot():
    np.testing.assert_array_equal(np.asarray(ops.take(X, np.array([[5, 0], [23, -1]]))), np.take(X, [[5, 0], [23, -1]]))
    finite_difference_check(lambda t: ops.take(t, np.array([2, 2, 0]), axis=2), [X / 3.0])  # repeated indices accumulate
    y = np.asarray(ops.one_hot(np.array([0, 2, 3, -1]), 3))
    np.testing.assert_array_equal(y, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert y.dtype == np.float32
    assert ops.one_hot(np.array([[1, 0]]), 4, axis=0).shape == (4, 1, 2)


def test_creation_ops():
    assert ops.zeros((2, 3)).dtype == "float32" and np.asarray(ops.ones(3)).tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(np.asarray(ops.full((2,), 7, dtype="int64")), [7, 7])
    np.testing.assert_array_equal(np.asarray(ops.zeros_like(np.ones((2, 2), "float64"))), np.zeros((2, 2)))
    assert ops.ones_like(np.ones(2, "int64")).dtype == "int64"
    assert ops.full_like(np.ones(2), 3.0, dtype="float32").dtype == "float32"
    np.testing.assert_array_equal(np.asarray(ops.arange(5)), np.arange(5))
    assert ops.arange(5).dtype == "int64" and ops.arange(0.0, 1.0, 0.25).dtype == "float32"
    np.testing.assert_array_equal(np.asarray(ops.arange(10, 2, -3)), np.arange(10, 2, -3))
    np.testing.assert_array_equal(np.asarray(ops.eye(3, 4, k=1)), np.eye(3, 4, k=1))


def test_dot_follows_numpy():
    rng = np.random.default_rng(0)
    for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((), (2, 2))]:
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        np.testing.assert_allclose(np.asarray(ops.dot(a, b)), np.dot(a, b), rtol=1e-12)
    finite_difference_check(ops.dot, [rng.normal(size=(2, 3)), rng.normal(size=(4, 3, 2))])


def test_bad_input():
    x = rkeras.Tensor(X)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1 with size 3"):
        x[0, 5]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match="take: index 7 is out of bounds"):
        ops.take(X, np.array([7]), axis=1)
    with pytest.raises(ValueError, match=r"concatenate: .*\[2, 3, 4\].*\[2, 2, 4\]"):
        ops.concatenate([X, X[:, :2, :]], axis=0)
    with pytest.raises(ValueError, match="squeeze: .*axis 1"):
        ops.squeeze(X, axis=1)
    with pytest.raises(ValueError, match="pad: unsupported mode"):
        ops.pad(X, 1, mode="reflect")
    with pytest.raises(ValueError, match="expand_dims: axis 5"):
        ops.expand_dims(X, 5)
