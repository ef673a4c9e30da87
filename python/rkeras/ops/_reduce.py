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
    "softmax", "sparse_categorical_crossentropy", "std", "var",
]
