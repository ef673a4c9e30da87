"""`to_categorical` and `normalize` (Keras's numpy-level helpers)."""

import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels: shape (..., num_classes), float64 as in Keras.
    A trailing axis of size 1 on `x` is dropped first."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) or np.any(x != np.floor(x)):
            raise ValueError("to_categorical: class labels must be integers.")
        x = x.astype(np.int64)
    elif x.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: expected integer class labels, received dtype {x.dtype}.")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical: class labels must be non-negative, received {int(x.min())}.")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(x.max())} is out of range for num_classes={num_classes}.")
    out = np.zeros((x.size, num_classes), dtype=np.float64)
    out[np.arange(x.size), x] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """`x` divided by its `order`-norm along `axis` (zero vectors stay zero)."""
    x = np.asarray(x)
    if order < 1 and order != 0:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
