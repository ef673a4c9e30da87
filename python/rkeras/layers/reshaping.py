"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector (views where the layout allows)."""

import math

from rkeras import backend, ops
from rkeras.layers.layer import InputSpec, Layer

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


class Flatten(Layer):
    """(batch, d1, d2, …) -> (batch, d1·d2·…), in channels_last order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def build(self, input_shape):
        self.built = True  # stateless, but built by the first call as in Keras (it records the input shape)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1) if inputs.ndim > 1 else (inputs.shape[0], 1))

    def _native_step(self):
        """This layer's step of an inference plan run in Rust (models/inference_plan.py)."""
        if self.data_format == "channels_first":
            return None
        return ("flatten",)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(math.prod(rest))
        return (input_shape[0], size if rest else 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes all but the batch axis to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1:
            raise ValueError(f"Reshape: there can only be one unknown dimension (-1) in `target_shape`. Received: target_shape={target_shape}")
        self.target_shape = target_shape

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and math.prod(rest) != math.prod(self.target_shape):
                raise ValueError(
                    f"Layer {self.name!r}: total size of the new array must be unchanged, input_shape = {tuple(rest)}, "
                    f"output_shape = {self.target_shape}"
                )
            return self.target_shape
        if None in rest:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        total = math.prod(rest)
        if known == 0 or total % known:
            raise ValueError(
                f"Layer {self.name!r}: the total size of the input {tuple(rest)} is not divisible by the known dimensions of "
                f"`target_shape` {self.target_shape}"
            )
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs):
        shape = self._resolve(tuple(inputs.shape))
        return ops.reshape(inputs, (inputs.shape[0],) + tuple(shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(self._resolve(tuple(input_shape)))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes: `Permute((2, 1))` swaps axes 1 and 2 (1-based, as Keras)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be consecutive "
                f"and start from 1. Received dims={self.dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def build(self, input_shape):
        self.built = True  # stateless, but built by the first call as in Keras (it records the input shape)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n).__name__}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def build(self, input_shape):
        self.built = True  # stateless, but built by the first call as in Keras (it records the input shape)

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


def _data_format(value):
    value = value or backend.image_data_format()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. Received: data_format={value!r}")
    return value
