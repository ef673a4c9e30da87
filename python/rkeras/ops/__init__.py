"""Tensor operations with Keras 3's `keras.ops` names and arguments. Each is one call into Rust
(with the GIL released); each differentiable one records itself on active GradientTapes."""

from rkeras._core import (
    add,
    broadcast_to,
    cast,
    convert_to_tensor,
    divide,
    exp,
    matmul,
    multiply,
    negative,
    reshape,
    subtract,
    sum,
    transpose,
)


def convert_to_numpy(x):
    """A numpy array with the value of `x` (no copy when `x` is a contiguous tensor)."""
    import numpy as np

    return np.asarray(x)


def zeros_like(x, dtype=None):
    x = convert_to_tensor(x)
    return convert_to_tensor(__import__("numpy").zeros(x.shape, dtype or x.dtype))
