"""`keras.dtype_policies`: a layer's variable and compute dtypes (float32 or float64 here)."""

__all__ = ["DTypePolicy", "FloatDTypePolicy", "dtype_policy", "get", "serialize", "deserialize"]

_SUPPORTED = ("float32", "float64")


class DTypePolicy:
    """`DTypePolicy("float32")`: variables and computation in that dtype."""

    # Keras writes this class under the top-level module name.
    _keras_module = "keras"

    def __init__(self, name=None):
        from rkeras import config

        name = name or config.floatx()
        if name not in _SUPPORTED:
            if name in ("mixed_float16", "mixed_bfloat16", "float16", "bfloat16"):
                raise ValueError(f"Unsupported dtype policy {name!r}: rkeras computes in float32 or float64 on the CPU.")
            raise ValueError(f"Cannot convert {name!r} to a dtype policy. Expected one of {_SUPPORTED}.")
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._name

    @property
    def variable_dtype(self):
        return self._name

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def dtype_policy(value):
    """A DTypePolicy from None (floatx), a dtype name, a numpy dtype, a config dict or a policy."""
    if isinstance(value, DTypePolicy):
        return value
    if value is None:
        return DTypePolicy()
    if isinstance(value, dict):
        return deserialize(value)
    name = getattr(value, "name", value)
    if not isinstance(name, str):
        import numpy as np

        name = np.dtype(value).name
    return DTypePolicy(name)


get = dtype_policy


def serialize(policy):
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(policy)


def deserialize(config):
    if isinstance(config, str):
        return DTypePolicy(config)
    inner = config.get("config", config)
    return DTypePolicy(inner.get("name"))
