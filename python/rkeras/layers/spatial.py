"""Spatial reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D and UpSampling1D/2D/3D
(nearest, and for 2-D bilinear, bicubic, lanczos3 and lanczos5), under Keras 3's names and arguments."""

import numpy as np

from rkeras import ops
from rkeras.layers.layer import InputSpec, Layer
from rkeras.ops import _nn

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]


def _pairs(value, rank, name, layer):
    """An int, a tuple of `rank` ints (symmetric) or `rank` (before, after) pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = ((value, value),) * rank
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(f"{layer}: `{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. Received: {name}={value!r}") from None
        if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
            pairs = (items,)
        elif len(items) == rank and all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            pairs = tuple((v, v) for v in items)
        elif len(items) == rank and all(len(tuple(v)) == 2 for v in items):
            pairs = tuple(tuple(int(a) for a in v) for v in items)
        else:
            raise ValueError(f"{layer}: `{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. Received: {name}={value!r}")
    if any(a < 0 for p in pairs for a in p):
        raise ValueError(f"{layer}: `{name}` must be non-negative. Received: {name}={value!r}")
    return pairs


def _spatial_axes(rank, data_format):
    return tuple(range(1, rank + 1)) if data_format == "channels_last" else tuple(range(2, rank + 2))


class _ZeroPadding(Layer):
    rank = None

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, self.rank, "padding", type(self).__name__)
        self.data_format = _nn.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        widths = [(0, 0)] * (self.rank + 2)
        for axis, pair in zip(_spatial_axes(self.rank, self.data_format), self.padding):
            widths[axis] = pair
        return ops.pad(inputs, widths)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(_spatial_axes(self.rank, self.data_format), self.padding):
            if shape[axis] is not None:
                shape[axis] += a + b
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(_ZeroPadding):
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping", type(self).__name__)
        self.data_format = _nn.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        index = [slice(None)] * (self.rank + 2)
        for axis, (a, b) in zip(_spatial_axes(self.rank, self.data_format), self.cropping):
            if a + b >= inputs.shape[axis]:
                raise ValueError(f"Layer {self.name!r}: cropping {self.cropping} is too large for the input shape {tuple(inputs.shape)}.")
            index[axis] = slice(a, inputs.shape[axis] - b)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(_spatial_axes(self.rank, self.data_format), self.cropping):
            if shape[axis] is not None:
                if a + b >= shape[axis]:
                    raise ValueError(f"Layer {self.name!r}: cropping {self.cropping} is too large for the input shape {tuple(input_shape)}.")
                shape[axis] -= a + b
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping[0]
        config.pop("data_format")
        return config


class Cropping2D(_Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


def _keys_cubic(d):
    """Keys' cubic convolution kernel with a = -0.5."""
    near = ((1.5 * d - 2.5) * d) * d + 1.0
    far = ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    return np.where(d < 1.0, near, np.where(d < 2.0, far, 0.0))


def _lanczos(radius, d):
    with np.errstate(divide="ignore", invalid="ignore"):
        value = radius * np.sin(np.pi * d) * np.sin(np.pi * d / radius) / (np.pi * np.pi * d * d)
    return np.where(d > radius, 0.0, np.where(d > 1e-3, value, 1.0))


# interpolation -> (kernel radius, kernel weight as a function of the distance in input pixels)
_RESIZE_KERNELS = {
    "bilinear": (1, lambda d: np.maximum(0.0, 1.0 - d)),
    "bicubic": (2, _keys_cubic),
    "lanczos3": (3, lambda d: _lanczos(3.0, d)),
    "lanczos5": (5, lambda d: _lanczos(5.0, d)),
}


class _UpSampling(Layer):
    rank = None

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _nn.normalize_tuple(size, self.rank, "size")
        self.data_format = _nn.normalize_data_format(data_format)
        self.interpolation = str(interpolation).lower()
        allowed = ("nearest",) + (tuple(_RESIZE_KERNELS) if self.rank == 2 else ())
        if self.interpolation not in allowed:
            raise ValueError(f"{type(self).__name__}: `interpolation` must be one of {allowed}. Received: interpolation={interpolation!r}")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        outputs = inputs
        for axis, factor in zip(_spatial_axes(self.rank, self.data_format), self.size):
            if self.interpolation != "nearest":
                outputs = _upsample_axis(outputs, axis, factor, self.interpolation)
            elif factor > 1:
                outputs = ops.repeat(outputs, factor, axis=axis)
        return outputs

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(_spatial_axes(self.rank, self.data_format), self.size):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


def _upsample_axis(x, axis, factor, interpolation):
    """`factor`× along one axis with a separable interpolation kernel at half-pixel centers, the
    weights renormalized where taps fall outside the input: what `jax.image.resize` (Keras-JAX's
    UpSampling2D) computes when enlarging. A weighted sum of 2·radius gathers."""
    n = x.shape[axis]
    if factor == 1:
        return x
    radius, kernel = _RESIZE_KERNELS[interpolation]
    centers = (np.arange(n * factor) + 0.5) / factor - 0.5
    taps = np.floor(centers).astype(np.int64)[:, None] + np.arange(1 - radius, radius + 1)[None, :]
    weights = np.where((taps >= 0) & (taps < n), kernel(np.abs(centers[:, None] - taps)), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    taps = np.clip(taps, 0, n - 1)
    shape = [1] * len(x.shape)
    shape[axis] = n * factor
    out = None
    for t in range(taps.shape[1]):
        w = ops.reshape(ops.convert_to_tensor(weights[:, t].astype(str(x.dtype))), tuple(shape))
        term = ops.take(x, taps[:, t], axis=axis) * w
        out = term if out is None else out + term
    return out


class UpSampling1D(_UpSampling):
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        config.pop("data_format")
        return config


class UpSampling2D(_UpSampling):
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
