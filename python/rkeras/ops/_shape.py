"""Layout, indexing and creation ops (bindings in src/python/ops_shape.rs), plus the numpy-style
argument handling that is easier in Python: index expressions and pad widths."""

import builtins
import numbers

import numpy as np

from rkeras import _core
from rkeras._core import (
    concatenate,
    dot,
    expand_dims,
    eye,
    flip,
    one_hot,
    repeat,
    slice,
    split,
    squeeze,
    stack,
    take,
    tile,
)

__all__ = [
    "arange", "concatenate", "dot", "expand_dims", "eye", "flip", "full", "full_like", "one_hot",
    "ones", "ones_like", "pad", "repeat", "slice", "split", "squeeze", "stack", "take", "tile",
    "zeros", "zeros_like",
]


def _dtype_name(dtype, default="float32"):
    return default if dtype is None else np.dtype(dtype).name if not isinstance(dtype, str) else dtype


def _shape(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


def full(shape, fill_value, dtype=None):
    return _core._full(_shape(shape), float(fill_value), _dtype_name(dtype))


def zeros(shape, dtype=None):
    return full(shape, 0.0, dtype)


def ones(shape, dtype=None):
    return full(shape, 1.0, dtype)


def full_like(x, fill_value, dtype=None):
    x = _core.convert_to_tensor(x)
    return full(x.shape, fill_value, dtype or x.dtype)


def zeros_like(x, dtype=None):
    return full_like(x, 0.0, dtype)


def ones_like(x, dtype=None):
    return full_like(x, 1.0, dtype)


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dtype = "int64" if ints else "float32"
    return _core._arange(float(start), float(stop), float(step), _dtype_name(dtype))


def pad(x, pad_width, mode="constant", constant_values=None):
    x = _core.convert_to_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, received {pad_width!r}")
    value = 0.0 if constant_values is None else float(constant_values)
    return _core._pad(x, [tuple(int(v) for v in w) for w in widths], mode, value)


def _is_int(k):
    return isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_))


# `slice` below is Keras's op; index slices are `builtins.slice`.


def _getitem(x, key):
    """numpy indexing on a tensor, lowered to one strided slice (a view for positive steps),
    a reshape for None/int axes, and a `take` for one integer-array index."""
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(int(np.asarray(k)) if isinstance(k, _core.Tensor) and k.ndim == 0 and k.dtype == "int64" else k for k in key)
    if len(key) == 1 and not isinstance(key[0], (numbers.Number, type(None), type(Ellipsis), builtins.slice)):
        mask = np.asarray(key[0])
        if mask.dtype == bool:
            if mask.shape != tuple(x.shape[: mask.ndim]):
                raise IndexError(f"boolean index of shape {mask.shape} does not match tensor shape {x.shape}")
            rest = tuple(x.shape[mask.ndim:])
            return take(_core.reshape(x, (-1,) + rest), np.flatnonzero(mask), axis=0)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor: tensor is {x.ndim}-dimensional, but {consumed} were indexed")
    fill = (builtins.slice(None),) * (x.ndim - consumed)
    if Ellipsis in key:
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + fill + key[i + 1:]
    else:
        key = key + fill
    starts, steps, lens, out_shape = [], [], [], []
    advanced = None
    axis = 0
    for k in key:
        if k is None:
            out_shape.append(1)
            continue
        n = x.shape[axis]
        if isinstance(k, builtins.slice):
            start, stop, step = k.indices(n)
            length = len(range(start, stop, step))
            starts.append(start if length else 0)
            steps.append(step)
            lens.append(length)
            out_shape.append(length)
        elif _is_int(k):
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {axis} with size {n}")
            starts.append(int(k) % n)
            steps.append(1)
            lens.append(1)
        else:
            if advanced is not None:
                raise IndexError("only one integer-array index per subscript is supported")
            idx = np.asarray(k)
            if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer):
                raise IndexError(f"arrays used as indices must be of integer type, received {idx.dtype}")
            advanced = (len(out_shape), idx)
            starts.append(0)
            steps.append(1)
            lens.append(n)
            out_shape.append(n)
        axis += 1
    y = _core._strided_slice(x, starts, steps, lens)
    if tuple(out_shape) != tuple(lens):
        y = _core.reshape(y, tuple(out_shape))
    if advanced is not None:
        y = take(y, advanced[1], axis=advanced[0])
    return y
