"""Tensor operations with Keras 3's `keras.ops` names and arguments. Each is one call into Rust
(with the GIL released); each differentiable one records itself on active GradientTapes."""

from rkeras._core import (
    add,
    broadcast_to,
    cast,
    convert_to_tensor,
    divide,
    matmul,
    multiply,
    negative,
    reshape,
    subtract,
    sum,
    transpose,
)
from rkeras.ops._binary import *  # noqa: F401,F403
from rkeras.ops._nn import *  # noqa: F401,F403
from rkeras.ops._reduce import *  # noqa: F401,F403
from rkeras.ops._shape import *  # noqa: F401,F403
from rkeras.ops._unary import *  # noqa: F401,F403


def convert_to_numpy(x):
    """A numpy array with the value of `x` (no copy when `x` is a contiguous tensor)."""
    import numpy as np

    return np.asarray(x)


def stop_gradient(variable):
    """The same values, cut from every tape: gradients do not flow through the result."""
    from rkeras import _core as core

    x = convert_to_tensor(variable)
    core._pause_recording()
    try:
        # A fresh tensor (a view, no copy) that no tape has seen.
        return reshape(x, tuple(x.shape))
    finally:
        core._resume_recording()
