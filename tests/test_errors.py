"""Bad input gets a clear Python exception naming the op and the shapes, never a crash."""

import numpy as np
import pytest

import rkeras
from rkeras import ops


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: .*\[2, 3\].*\[4\]"):
        ops.add(np.ones((2, 3)), np.ones(4))


def test_matmul_inner_dimension_mismatch():
    with pytest.raises(ValueError, match=r"matmul: .*\[2, 3\].*\[4, 5\]"):
        ops.matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(np.ones(()), np.ones(3))


def test_unsupported_dtypes_are_type_errors():
    with pytest.raises(TypeError, match="complex128"):
        rkeras.Tensor(np.ones(3, np.complex128))
    with pytest.raises(TypeError):
        rkeras.Tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="float16"):
        ops.cast(np.ones(2), "float16")


def test_axes_out_of_range():
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        ops.sum(np.ones((2, 2)), axis=3)
    with pytest.raises(ValueError, match="duplicate axis"):
        ops.sum(np.ones((2, 2)), axis=(0, -2))
    with pytest.raises(ValueError, match="transpose"):
        ops.transpose(np.ones((2, 2)), (0, 0))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .*\(6 elements\)"):
        ops.reshape(np.ones((2, 3)), (4, -1))


def test_nonfinite_values_propagate():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    np.testing.assert_allclose(np.asarray(ops.exp(x)), np.exp(x), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(ops.add(x, x)), x + x)
