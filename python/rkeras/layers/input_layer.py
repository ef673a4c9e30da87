"""`InputLayer` and `Input()`: where a functional graph starts."""

from rkeras.layers.layer import Layer
from rkeras.symbolic import KerasTensor, Node

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """Holds the symbolic tensor a functional model starts from (Keras 3 signature)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, dtype=dtype if dtype is None or _is_float(dtype) else None, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same time.")
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument.")
        if sparse or ragged:
            raise ValueError("rkeras does not support sparse or ragged inputs.")
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(f"Argument `input_tensor` must be a KerasTensor. Received: {input_tensor!r}")
            batch_shape = input_tensor.shape
        if shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        for d in batch_shape:
            if d is not None and d < 0:
                raise ValueError(f"Input shape dimensions must be non-negative; received shape {batch_shape}.")
        self._batch_shape = batch_shape
        self._dtype_name = self.dtype_policy.name if dtype is None or _is_float(dtype) else _name(dtype)
        self.sparse = False
        self.optional = optional
        self.built = True
        tensor = KerasTensor(batch_shape, dtype=self._dtype_name, name=name)
        Node(self, outputs=tensor)
        self._output_tensor = tensor

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self):
        return self._dtype_name

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {
            "batch_shape": list(self._batch_shape),
            "dtype": self._dtype_name,
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("trainable", None)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None, name=None, tensor=None, optional=False):
    """A symbolic input: `x = keras.Input(shape=(784,))`."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, ragged=ragged, batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)
    return layer._output_tensor


def _name(dtype):
    import numpy as np

    return getattr(dtype, "name", None) if isinstance(getattr(dtype, "name", None), str) else np.dtype(dtype).name


def _is_float(dtype):
    return _name(dtype) in ("float32", "float64")
