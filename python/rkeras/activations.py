"""`keras.activations`: every Keras 3 activation by name, as functions of tensors built from
`rkeras.ops` (so each is differentiable through the tape)."""

from rkeras import ops

__all__ = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold", "get", "serialize", "deserialize",
]


def _t(x):
    return ops.convert_to_tensor(x) if not hasattr(x, "dtype") else x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """`max(x, 0)`, with Keras's optional `negative_slope` (below `threshold`), `max_value` cap and `threshold`."""
    x = _t(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return ops.leaky_relu(x, negative_slope=negative_slope)
    negative_part = None
    if negative_slope != 0.0:
        negative_part = ops.relu(ops.add(ops.negative(x), threshold)) if threshold != 0.0 else ops.relu(ops.negative(x))
    if threshold != 0.0:
        out = ops.multiply(x, ops.cast(ops.greater(x, threshold), x.dtype))
    elif max_value == 6:
        out = ops.relu6(x)
        max_value = None
    else:
        out = ops.relu(x)
    if max_value is not None:
        out = ops.clip(out, 0.0, float(max_value))
    if negative_part is not None:
        out = ops.subtract(out, ops.multiply(negative_part, negative_slope))
    return out


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(_t(x), negative_slope=negative_slope)


def relu6(x):
    return ops.relu6(_t(x))


def elu(x, alpha=1.0):
    return ops.elu(_t(x), alpha=alpha)


def celu(x, alpha=1.0):
    """`max(0, x) + min(0, alpha·(exp(x/alpha) − 1))`."""
    x = _t(x)
    neg = ops.multiply(ops.expm1(ops.divide(ops.minimum(x, 0.0), alpha)), alpha)
    return ops.add(ops.relu(x), neg)


def selu(x):
    return ops.selu(_t(x))


def gelu(x, approximate=False):
    return ops.gelu(_t(x), approximate=approximate)


def glu(x, axis=-1):
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half."""
    x = _t(x)
    if x.shape[axis] % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}")
    a, b = ops.split(x, 2, axis=axis)
    return ops.multiply(a, ops.sigmoid(b))


def sigmoid(x):
    return ops.sigmoid(_t(x))


def hard_sigmoid(x):
    return ops.hard_sigmoid(_t(x))


def hard_silu(x):
    return ops.hard_silu(_t(x))


hard_swish = hard_silu


def hard_tanh(x):
    return ops.clip(_t(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = _t(x)
    return ops.where(ops.greater(ops.abs(x), threshold), x, ops.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    x = _t(x)
    zero = ops.zeros_like(x)
    return ops.where(ops.greater(x, threshold), ops.subtract(x, threshold), ops.where(ops.less(x, -threshold), ops.add(x, threshold), zero))


def tanh_shrink(x):
    x = _t(x)
    return ops.subtract(x, ops.tanh(x))


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    x = _t(x)
    return ops.where(ops.greater(x, threshold), x, ops.full_like(x, default_value))


def sparse_plus(x):
    """0 for x ≤ −1, (x+1)²/4 between, x for x ≥ 1."""
    x = _t(x)
    mid = ops.multiply(ops.square(ops.add(x, 1.0)), 0.25)
    return ops.where(ops.less_equal(x, -1.0), ops.zeros_like(x), ops.where(ops.greater_equal(x, 1.0), x, mid))


def sparse_sigmoid(x):
    """0 for x ≤ −1, (x+1)/2 between, 1 for x ≥ 1."""
    x = _t(x)
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def squareplus(x, b=4):
    """`(x + sqrt(x² + b)) / 2`."""
    x = _t(x)
    return ops.multiply(ops.add(x, ops.sqrt(ops.add(ops.square(x), float(b)))), 0.5)


def softplus(x):
    return ops.softplus(_t(x))


def softsign(x):
    return ops.softsign(_t(x))


def silu(x):
    return ops.silu(_t(x))


swish = silu


def mish(x):
    return ops.mish(_t(x))


def tanh(x):
    return ops.tanh(_t(x))


def exponential(x):
    return ops.exp(_t(x))


def linear(x):
    return x


def log_sigmoid(x):
    return ops.log_sigmoid(_t(x))


def softmax(x, axis=-1):
    return ops.softmax(_t(x), axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(_t(x), axis=axis)


def sparsemax(x, axis=-1):
    """Euclidean projection onto the simplex along `axis` (Martins & Astudillo, 2016). The
    support is found on the host; the threshold is then computed with differentiable ops over
    that (constant) support, which gives sparsemax's exact Jacobian."""
    import numpy as np

    x = _t(x)
    values = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    z = -np.sort(-values, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cumsum = np.cumsum(z, axis=-1)
    support = (1 + k * z) > cumsum
    k_z = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumsum, k_z - 1, axis=-1) - 1) / k_z
    mask = np.moveaxis(values > tau, -1, axis).astype(x.dtype)
    mask_t = ops.convert_to_tensor(mask)
    count = ops.sum(mask_t, axis=axis, keepdims=True)
    tau_t = ops.divide(ops.subtract(ops.sum(ops.multiply(x, mask_t), axis=axis, keepdims=True), 1.0), count)
    return ops.relu(ops.subtract(x, tau_t))


_ALL = {name: globals()[name] for name in __all__ if name not in ("get", "serialize", "deserialize")}


def serialize(activation):
    """A built-in activation serializes to its name (as Keras writes it in configs)."""
    for name, fn in _ALL.items():
        if fn is activation:
            return "silu" if name == "swish" else "hard_silu" if name == "hard_swish" else name
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(activation)


def deserialize(config, custom_objects=None):
    from rkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=_ALL)


def get(identifier):
    """An activation function from a name, a config dict, or a callable (None means linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is None:
            from rkeras.saving.serialization_lib import get_registered_object

            fn = get_registered_object(identifier)
        if fn is None:
            raise ValueError(f"Could not interpret activation function identifier: {identifier}")
        return fn
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")
