"""Pooling layers: Max/Average pooling 1D/2D/3D (Rust kernels) and the global poolings, under
Keras 3's names (with the MaxPool*/AvgPool*/Global*Pool* aliases)."""

from rkeras import ops
from rkeras._core import Tensor
from rkeras.layers.layer import InputSpec, Layer
from rkeras.ops import _nn

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]


def _check_rank(layer, input_shape):
    if len(input_shape) != layer.rank + 2:
        raise ValueError(f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected ndim={layer.rank + 2}, found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")


class _Pooling(Layer):
    rank = None
    mode = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _nn.normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else _nn.normalize_tuple(strides, self.rank, "strides")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__}: the `padding` argument must be 'valid' or 'same'. Received: padding={padding!r}")
        self.data_format = _nn.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        if self.data_format == "channels_last" and isinstance(inputs, Tensor) and len(inputs.shape) == self.rank + 2:
            return _nn.pool_channels_last(inputs, self.pool_size, self.strides, self.padding, self.mode)
        pool = _nn.max_pool if self.mode == "max" else _nn.average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def _native_step(self):
        """This layer's step of an inference plan run in Rust (models/inference_plan.py)."""
        if self.data_format != "channels_last":
            return None
        return ("pool", list(self.pool_size), list(self.strides), self.padding, self.mode)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape)
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        out = []
        for size, k, s in zip(spatial, self.pool_size, self.strides):
            length = _nn.output_length(size, k, s, 1, self.padding)
            if length is not None and length <= 0:
                raise ValueError(f"Layer {self.name!r}: the pool size {self.pool_size} is larger than the input's spatial shape {tuple(spatial)} with padding={self.padding!r}.")
            out.append(length)
        if last:
            return (input_shape[0],) + tuple(out) + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding, "strides": self.strides, "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling):
    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling2D(_Pooling):
    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling3D(_Pooling):
    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling1D(_Pooling):
    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling2D(_Pooling):
    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling3D(_Pooling):
    rank, mode = 3, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class _GlobalPooling(Layer):
    rank = None
    reduce = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _nn.normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def call(self, inputs):
        return getattr(ops, self.reduce)(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    rank, reduce = 1, "mean"
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        # As Keras: the average over the unmasked steps only (masked values, even inf, ignored).
        last = self.data_format == "channels_last"
        keep = ops.expand_dims(ops.cast(mask, "bool"), 2 if last else 1)
        axis = 1 if last else 2
        total = ops.sum(ops.where(keep, inputs, 0.0), axis=axis, keepdims=self.keepdims)
        return total / ops.sum(ops.cast(keep, inputs.dtype), axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    rank, reduce = 2, "mean"


class GlobalAveragePooling3D(_GlobalPooling):
    rank, reduce = 3, "mean"


class GlobalMaxPooling1D(_GlobalPooling):
    rank, reduce = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, reduce = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    rank, reduce = 3, "max"


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D
