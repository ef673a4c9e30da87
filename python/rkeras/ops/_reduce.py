"""Reductions, softmax and the fused losses (bindings in src/python/ops_reduce.rs)."""

from rkeras._core import (
    argmax,
    argmin,
    binary_crossentropy,
    categorical_crossentropy,
    log_softmax,
    logsumexp,
    max,
    mean,
    mean_absolute_error,
    mean_squared_error,
    min,
    prod,
    softmax,
    sparse_categorical_crossentropy,
    std,
    var,
)

__all__ = [
    "argmax", "argmin", "binary_crossentropy", "categorical_crossentropy", "log_softmax",
    "logsumexp", "max", "mean", "mean_absolute_error", "mean_squared_error", "min", "prod",
    "softmax", "sparse_categorical_crossentropy", "std", "var", "any", "all",
]


def any(x, axis=None, keepdims=False):
    """Whether any element along `axis` is nonzero (a bool tensor)."""
    from rkeras._core import cast, not_equal

    return cast(max(cast(not_equal(x, 0), "int64"), axis, keepdims), "bool")


def all(x, axis=None, keepdims=False):
    """Whether every element along `axis` is nonzero (a bool tensor)."""
    from rkeras._core import cast, not_equal

    return cast(min(cast(not_equal(x, 0), "int64"), axis, keepdims), "bool")
