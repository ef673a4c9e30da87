"""`keras.initializers` with Keras 3's formulas and defaults. Random initializers draw from
`rkeras.random` (Philox): an int seed gives the same values at every call; `seed=None` picks a
seed from Python's `random` at construction, so `rkeras.utils.set_random_seed` makes model
initialization reproducible."""

import math
import random as _py_random

import numpy as np

from rkeras import config, ops
from rkeras import random as rk_random

__all__ = [
    "Initializer", "Constant", "Zeros", "Ones", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
    "Orthogonal", "OrthogonalInitializer", "Identity", "IdentityInitializer", "get", "serialize", "deserialize",
]


def _dtype(dtype):
    dtype = dtype or config.floatx()
    return getattr(dtype, "name", None) if isinstance(getattr(dtype, "name", None), str) else np.dtype(dtype).name


class Initializer:
    """Base: `initializer(shape, dtype=None)` returns a tensor of that shape."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"Initializer {type(self).__name__} does not implement `__call__()`.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return ops.convert_to_tensor(np.broadcast_to(np.asarray(self.value, dtype=_dtype(dtype)), tuple(shape)).copy())

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return {"value": value}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return ops.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return ops.ones(tuple(shape), dtype=_dtype(dtype))


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        elif isinstance(seed, dict):
            seed = rk_random.SeedGenerator.from_config(seed.get("config", seed))
        elif isinstance(seed, bool) or not isinstance(seed, (int, rk_random.SeedGenerator)):
            raise ValueError(f"`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. Received: seed={seed}")
        self.seed = seed

    def get_config(self):
        from rkeras.saving.serialization_lib import serialize_keras_object

        return {"seed": serialize_keras_object(self._init_seed)}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        return rk_random.normal(tuple(shape), mean=self.mean, stddev=self.stddev, dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape, dtype=None):
        return rk_random.uniform(tuple(shape), minval=self.minval, maxval=self.maxval, dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(RandomInitializer):
    """Normal values, redrawn beyond two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        return rk_random.truncated_normal(tuple(shape), mean=self.mean, stddev=self.stddev, dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) as Keras: (in, out) for matrices; × receptive field for conv kernels;
    or the products of the dimensions at `input_axes` and `output_axes` when both are given."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(RandomInitializer):
    """Values with variance `scale / n` (n = fan_in, fan_out or their mean), from a truncated
    normal (σ corrected by 0.8796…), an untruncated normal, or a uniform distribution."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: expected one of {{'fan_in', 'fan_out', 'fan_avg'}}. Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                "Invalid `distribution` argument: expected one of {'uniform', 'truncated_normal', 'untruncated_normal'}. "
                f"Received: distribution={distribution}"
            )
        super().__init__(seed)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        dtype = _dtype(dtype)
        shape = tuple(shape)
        if self.distribution == "truncated_normal":
            return rk_random.truncated_normal(shape, mean=0.0, stddev=math.sqrt(s) / 0.87962566103423978, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return rk_random.normal(shape, mean=0.0, stddev=math.sqrt(s), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * s)
        return rk_random.uniform(shape, minval=-limit, maxval=limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode, "distribution": self.distribution, "input_axes": self.input_axes, "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """Glorot/He/Lecun: VarianceScaling with fixed scale, mode and distribution."""

    _args = (1.0, "fan_avg", "uniform")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._args
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {**RandomInitializer.get_config(self), "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """An orthogonal matrix (rows or columns orthonormal) from the QR decomposition of a normal draw."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional. Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = np.asarray(rk_random.normal(flat, dtype="float64", seed=self.seed))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return ops.convert_to_tensor((self.gain * q).reshape(shape).astype(_dtype(dtype)))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


OrthogonalInitializer = Orthogonal


class Identity(Initializer):
    """`gain × eye` for 2-D shapes."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. Received: shape={shape} of rank {len(shape)}.")
        return ops.convert_to_tensor((self.gain * np.eye(*shape)).astype(_dtype(dtype)))

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity

_CLASSES = {
    cls.__name__: cls
    for cls in (Constant, Zeros, Ones, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity)
}
_CLASSES.update({"OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity})
_ALIASES = {
    "constant": Constant, "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal, "identity": Identity,
}
# Function-style aliases (`keras.initializers.glorot_uniform`) are the classes themselves.
globals().update({name: cls for name, cls in _ALIASES.items() if name.isidentifier()})


def serialize(initializer):
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    from rkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects={**_CLASSES, **_ALIASES})


def get(identifier):
    """An initializer from None, a name ("glorot_uniform", "GlorotUniform", "uniform"…), a config
    dict, a class, an instance or any callable `(shape, dtype) -> tensor`."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier) or _ALIASES.get(identifier) or _ALIASES.get(identifier.lower())
        if cls is None:
            from rkeras.saving.serialization_lib import get_registered_object

            cls = get_registered_object(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
