import numpy as np
import pytest

import rkeras
from rkeras import ops
from opcheck import op_test

test_add = op_test(ops.add, np.add, arity=2)
test_subtract = op_test(ops.subtract, np.subtract, arity=2)
test_multiply = op_test(ops.multiply, np.multiply, arity=2)
test_divide = op_test(ops.divide, np.divide, arity=2, lo=0.5, hi=3.0)
test_negative = op_test(ops.negative, np.negative)
test_exp = op_test(ops.exp, np.exp, rtol=1e-14)
test_sum_all = op_test(ops.sum, np.sum)
test_sum_axis = op_test(lambda x: ops.sum(x, axis=-1, keepdims=True), lambda x: np.sum(x, axis=-1, keepdims=True), min_dims=1)
test_sum_axes = op_test(lambda x: ops.sum(x, axis=(0, 2)), lambda x: np.sum(x, axis=(0, 2)), min_dims=3)
test_reshape = op_test(lambda x: ops.reshape(x, (-1,)), lambda x: np.reshape(x, (-1,)))
test_transpose = op_test(ops.transpose, np.transpose)
test_transpose_axes = op_test(lambda x: ops.transpose(x, (1, 2, 0)), lambda x: np.transpose(x, (1, 2, 0)), min_dims=3, max_dims=3)
test_broadcast_to = op_test(lambda x: ops.broadcast_to(x, (2,) + x.shape), lambda x: np.broadcast_to(x, (2,) + x.shape))
test_matmul_2d = op_test(lambda a: ops.matmul(a, ops.transpose(a)), lambda a: a @ a.T, min_dims=2, max_dims=2)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4, 3)), ((2, 4), (4,)), ((4,), (4,)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))])
def test_matmul_shapes_values_and_gradients(sa, sb):
    from opcheck import finite_difference_check
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    np.testing.assert_allclose(np.asarray(ops.matmul(a, b)), a @ b, rtol=1e-12, atol=1e-12)
    got32 = np.asarray(ops.matmul(a.astype("float32"), b.astype("float32")))
    np.testing.assert_allclose(got32, (a @ b).astype("float32"), rtol=1e-4, atol=1e-5)
    finite_difference_check(ops.matmul, [a, b])


def test_matmul_large_matches_numpy_in_parallel():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 257)).astype("float32")
    b = rng.normal(size=(257, 129)).astype("float32")
    np.testing.assert_allclose(np.asarray(ops.matmul(a, b)), a @ b, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(ops.matmul(a.T, a)), a.T @ a, rtol=1e-4, atol=1e-2)  # strided view


def test_scalars_are_weakly_typed():
    x = rkeras.Tensor(np.ones(3, "float32"))
    assert (x + 1).dtype == "float32"
    assert (2.5 * x).dtype == "float32"
    assert ops.add(np.ones(3), 1.0).dtype == "float64"
    assert ops.add(np.ones(3, "int64"), 2).dtype == "int64"
    assert ops.divide(np.ones(3, "int64"), 2).dtype == "float32"
    assert (np.ones(3, "float32") + x).dtype == "float32"  # numpy defers to the Tensor operator


def test_casts_between_dtypes():
    x = ops.convert_to_tensor([1.5, -2.0, 0.0])
    assert x.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(ops.cast(x, "int64")), [1, -2, 0])
    np.testing.assert_array_equal(np.asarray(ops.cast(x, bool)), [True, True, False])
    assert ops.cast(x, np.float64).dtype == "float64"
