"""`keras.regularizers`: penalties on weights (or activations) added to the training loss."""

import numpy as np

from rkeras import ops

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _check_penalty(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        raise ValueError(f"Value for argument `{name}` must be a non-negative finite number. Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base: `regularizer(x)` returns a scalar penalty tensor."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """`l1 · Σ|x| + l2 · Σx²` (no 0.5 factor, as Keras)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_penalty(l1, "l1")
        self.l2 = _check_penalty(l2, "l2")

    def __call__(self, x):
        total = None
        if self.l1:
            total = ops.multiply(ops.sum(ops.abs(x)), self.l1)
        if self.l2:
            term = ops.multiply(ops.sum(ops.square(x)), self.l2)
            total = term if total is None else ops.add(total, term)
        return total if total is not None else ops.zeros((), dtype=x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    # Keras keeps L1's factor as a float32 tensor (not L2's), so its config reports it rounded.
    def __init__(self, l1=0.01):
        super().__init__(l1=float(np.float32(_check_penalty(l1, "l1"))))

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (or columns): `factor · mean |offdiag(N·Nᵀ)|` of L2-normalized vectors."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _check_penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. Received: mode={mode}")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(x.shape)}")
        if self.mode == "columns":
            x = ops.transpose(x)
        norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=1, keepdims=True), 1e-12))
        normalized = ops.divide(x, norm)
        product = ops.matmul(normalized, ops.transpose(normalized))
        size = x.shape[0]
        eye = ops.eye(size, dtype=x.dtype)
        off = ops.abs(ops.multiply(product, ops.subtract(1.0, eye)))
        return ops.multiply(ops.divide(ops.sum(off), float(size * (size - 1)) if size > 1 else 1.0), self.factor)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_ALL = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer, "l1": L1, "l2": L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    from rkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=_ALL)


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALL.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
