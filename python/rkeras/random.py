"""Random tensors and dropout with Keras 3's `keras.random` API, on a counter-based (Philox)
generator in Rust: the same seed gives the same values for any thread count.

`seed=` may be an int (same int, same values), a `SeedGenerator` (a stateful seed that moves on
at every draw), or None (draw from the global generator; `rkeras.utils.set_random_seed` resets it,
so a sequence of unseeded calls is reproducible)."""

import random as _py_random

from rkeras import _core, config

_MASK64 = (1 << 64) - 1
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

__all__ = ["SeedGenerator", "uniform", "normal", "truncated_normal", "randint", "dropout", "shuffle"]


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class SeedGenerator:
    """A seed that advances at every draw: random ops given the same generator return different
    values on each call, and two generators built with the same seed produce the same sequence."""

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"SeedGenerator: expected `seed` to be an int or None, received {seed!r}")
        self.name = name
        self._seed = seed
        self._base = _splitmix64(seed & _MASK64)
        self._count = 0

    def next(self, ordered=True):
        """A fresh 64-bit seed; the generator's state moves on."""
        value = (self._base + self._count) & _MASK64
        self._count += 1
        return value

    @property
    def state(self):
        """(initial seed, number of draws so far)."""
        return (self._seed, self._count)

    def get_config(self):
        return {"seed": self._seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator seed={self._seed} draws={self._count}>"


_GLOBAL_GENERATOR = None


def global_seed_generator():
    """The generator unseeded random calls draw from (created on first use)."""
    global _GLOBAL_GENERATOR
    if _GLOBAL_GENERATOR is None:
        _GLOBAL_GENERATOR = SeedGenerator()
    return _GLOBAL_GENERATOR


def _reset_global_generator(seed):
    global _GLOBAL_GENERATOR
    _GLOBAL_GENERATOR = SeedGenerator(seed)


def draw_seed(seed):
    """The 64-bit seed a random op uses for `seed` (int, SeedGenerator or None)."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed & _MASK64
    raise ValueError(
        f"Argument `seed` must be an int, a `rkeras.random.SeedGenerator` or None, received {seed!r}"
    )


def _shape(op, shape):
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in dims):
        raise ValueError(f"{op}: expected `shape` to be a tuple of non-negative ints, received {shape!r}")
    return dims


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Floats drawn uniformly from [minval, maxval)."""
    dims = _shape("uniform", shape)
    return _core.random_uniform(dims, float(minval), float(maxval), dtype or config.floatx(), draw_seed(seed))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Floats from a normal distribution."""
    dims = _shape("normal", shape)
    return _core.random_normal(dims, float(mean), float(stddev), dtype or config.floatx(), draw_seed(seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values, with those more than two standard deviations from the mean drawn again."""
    dims = _shape("truncated_normal", shape)
    return _core.random_truncated_normal(dims, float(mean), float(stddev), dtype or config.floatx(), draw_seed(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval). rkeras integers are int64 for any int dtype."""
    dims = _shape("randint", shape)
    name = dtype if isinstance(dtype, str) else getattr(dtype, "__name__", str(dtype))
    if name not in _INT_DTYPES:
        raise ValueError(f"randint: expected an integer `dtype`, received {dtype!r}")
    return _core.random_randint(dims, int(minval), int(maxval), draw_seed(seed))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element (or each `noise_shape` slice) with probability `rate`; scale the kept
    ones by 1 / (1 - rate). `None` entries of `noise_shape` take the input's dimension."""
    ns = None if noise_shape is None else [None if d is None else int(d) for d in noise_shape]
    return _core.random_dropout(inputs, float(rate), ns, draw_seed(seed))


def shuffle(x, axis=0, seed=None):
    """`x` with its slices along `axis` in a random order (the same order for every other index)."""
    return _core.random_shuffle(x, int(axis), draw_seed(seed))
