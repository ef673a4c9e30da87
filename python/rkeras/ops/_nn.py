"""`keras.ops` convolution, pooling and normalization ops (Keras 3 names and arguments).

The Rust kernels work channels last with explicit (before, after) padding; this module turns
Keras's arguments (`padding="same"|"valid"|"causal"`, ints or tuples, `data_format`) into that
form, and moves channels-first data to channels last and back around the kernel call."""

import functools

from rkeras import backend
from rkeras._core import batch_norm as _batch_norm
from rkeras._core import conv as _conv
from rkeras._core import explicit_padding as _core_explicit_padding
from rkeras._core import pool as _pool
from rkeras._core import reshape, transpose
from rkeras.ops._reduce import mean, var
from rkeras.ops._unary import sqrt

__all__ = [
    "average_pool",
    "batch_normalization",
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "max_pool",
    "moments",
    "separable_conv",
]


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or a sequence of `n` ints as a tuple of `n` ints (Keras's argument convention)."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value!r}") from None
        if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value!r}")
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} {kind} integers. Received: {name}={value!r}")
    return values


def normalize_data_format(data_format):
    data_format = backend.image_data_format() if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. Received: data_format={data_format!r}")
    return data_format


def explicit_padding(spatial, kernel, strides, dilation, padding):
    """(before, after) per spatial dim. "same" is TensorFlow's: the extra pixel goes after."""
    return _explicit_padding(tuple(spatial), tuple(kernel), tuple(strides), tuple(dilation), str(padding).lower())


@functools.lru_cache(maxsize=1024)
def _explicit_padding(spatial, kernel, strides, dilation, padding):
    # Cached: layers call this for every batch with the same few shapes. The rule itself is the
    # Rust core's (inference chains compute it there).
    return tuple(_core_explicit_padding(list(spatial), list(kernel), list(strides), list(dilation), padding))


def output_length(size, k, stride, dilation, padding):
    """The output size along one dim (None stays None), as Keras computes it."""
    if size is None:
        return None
    span = (k - 1) * dilation + 1
    if padding == "same":
        return -(-size // stride)
    if padding == "causal":
        return (size - 1) // stride + 1
    return max((size - span) // stride + 1, 0)


def to_channels_last(x):
    rank = len(x.shape)
    return transpose(x, (0,) + tuple(range(2, rank)) + (1,))


def to_channels_first(x):
    rank = len(x.shape)
    return transpose(x, (0, rank - 1) + tuple(range(1, rank - 1)))


def _spatial_rank(x, op):
    rank = len(x.shape)
    if not 3 <= rank <= 5:
        raise ValueError(f"{op}: expected an input of rank 3, 4 or 5 (batch, *spatial, channels), received shape {tuple(x.shape)}")
    return rank - 2


def conv_channels_last(x, kernel, bias, strides, padding, dilation, groups, activation):
    """The layers' path: a channels-last Tensor and arguments already normalized by the layer."""
    pads = _explicit_padding(tuple(x.shape[1:-1]), tuple(kernel.shape[:-2]), strides, dilation, padding)
    return _conv(x, kernel, bias, strides, pads, dilation, groups, activation)


def pool_channels_last(x, pool_size, strides, padding, mode):
    """The pooling layers' path, as `conv_channels_last`."""
    pads = _explicit_padding(tuple(x.shape[1:-1]), pool_size, strides, (1,) * len(pool_size), padding)
    return _pool(x, pool_size, strides, pads, mode)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None, activation="linear", groups=None):
    """N-d convolution (cross-correlation); kernel (*kernel_size, in_channels/groups, filters).
    `groups` defaults to in_channels / kernel's in_channels, as Keras infers it."""
    from rkeras import ops

    inputs = ops.convert_to_tensor(inputs)
    kernel = ops.convert_to_tensor(kernel)
    nd = _spatial_rank(inputs, "conv")
    data_format = normalize_data_format(data_format)
    x = inputs if data_format == "channels_last" else to_channels_last(inputs)
    strides = normalize_tuple(strides, nd, "strides")
    dilation = normalize_tuple(dilation_rate, nd, "dilation_rate")
    if len(kernel.shape) != nd + 2:
        raise ValueError(f"conv: the kernel must have rank {nd + 2} (*kernel_size, in_channels/groups, filters) for an input of rank {nd + 2}, received kernel shape {tuple(kernel.shape)}")
    if groups is None:
        channels, per_group = x.shape[-1], kernel.shape[-2]
        if per_group == 0 or channels % per_group:
            raise ValueError(f"conv: the input channels ({channels}) must be a multiple of the kernel's input channels ({per_group}); input shape {tuple(inputs.shape)}, kernel shape {tuple(kernel.shape)}")
        groups = channels // per_group
    pads = explicit_padding(x.shape[1:-1], kernel.shape[:nd], strides, dilation, padding)
    y = _conv(x, kernel, bias, list(strides), pads, list(dilation), groups, activation)
    return y if data_format == "channels_last" else to_channels_first(y)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; kernel (*kernel_size, in_channels, depth_multiplier). Output channel
    c·depth_multiplier + m is input channel c convolved with kernel[..., c, m] (TF's order)."""
    from rkeras import ops

    kernel = ops.convert_to_tensor(kernel)
    shape = tuple(kernel.shape)
    grouped = reshape(kernel, shape[:-2] + (1, shape[-2] * shape[-1]))
    return conv(inputs, grouped, strides, padding, data_format, dilation_rate, groups=shape[-2])


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a pointwise (1×…×1) one."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution (the gradient of `conv` with respect to its input); kernel
    (*kernel_size, filters, in_channels). Built as a stride-1 convolution of the zero-dilated,
    padded input with the spatially flipped kernel, so gradients come from the conv kernel."""
    from rkeras import ops

    inputs = ops.convert_to_tensor(inputs)
    kernel = ops.convert_to_tensor(kernel)
    nd = _spatial_rank(inputs, "conv_transpose")
    data_format = normalize_data_format(data_format)
    x = inputs if data_format == "channels_last" else to_channels_last(inputs)
    strides = normalize_tuple(strides, nd, "strides")
    dilation = normalize_tuple(dilation_rate, nd, "dilation_rate")
    out_pad = (None,) * nd if output_padding is None else normalize_tuple(output_padding, nd, "output_padding", allow_zero=True)
    padding = str(padding).lower()
    ksize = kernel.shape[:nd]
    pads = []
    for d in range(nd):
        span = (ksize[d] - 1) * dilation[d] + 1
        size = x.shape[1 + d]
        length = conv_transpose_length(size, ksize[d], strides[d], dilation[d], padding, out_pad[d])
        # The matching forward convolution (input `length`) pads `p` before, TF-style.
        p = max((-(-length // strides[d]) - 1) * strides[d] + span - length, 0) // 2 if padding == "same" else 0
        before = span - 1 - p
        # Dilated input spans (size-1)*stride+1; pad after so the output has `length`.
        after = length + span - 1 - ((size - 1) * strides[d] + 1) - before
        pads.append((before, after))
    # Zero-dilate the input by the strides: (n, L, c) -> (n, L, s, c) with zeros -> (n, L*s, c).
    for d in range(nd):
        s = strides[d]
        if s > 1:
            axis = 1 + d
            shape = tuple(x.shape)
            x = ops.expand_dims(x, axis + 1)
            widths = [(0, 0)] * len(x.shape)
            widths[axis + 1] = (0, s - 1)
            x = ops.pad(x, widths)
            x = reshape(x, shape[:axis] + (shape[axis] * s,) + shape[axis + 1:])
            x = x[(slice(None),) * axis + (slice(0, (shape[axis] - 1) * s + 1),)]
    # Negative padding (a large `padding="same"` crop) is a crop of the dilated input.
    crops = tuple(slice(max(-b, 0), x.shape[1 + d] - max(-a, 0)) for d, (b, a) in enumerate(pads))
    x = x[(slice(None),) + crops]
    pads = [(max(b, 0), max(a, 0)) for b, a in pads]
    flipped = kernel[(slice(None, None, -1),) * nd]
    flipped = transpose(flipped, tuple(range(nd)) + (nd + 1, nd))
    y = _conv(x, flipped, None, [1] * nd, pads, list(dilation), 1, "linear")
    return y if data_format == "channels_last" else to_channels_first(y)


def conv_transpose_length(size, k, stride, dilation, padding, output_padding=None):
    """Output length of a transposed convolution (Keras's `compute_conv_transpose_output_shape`)."""
    if size is None:
        return None
    span = (k - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(span - stride, 0)
        if padding == "same":
            return size * stride
        raise ValueError(f"The `padding` argument must be 'valid' or 'same'. Received: padding={padding!r}")
    pad = {"valid": 0, "same": span // 2}.get(padding)
    if pad is None:
        raise ValueError(f"The `padding` argument must be 'valid' or 'same'. Received: padding={padding!r}")
    return (size - 1) * stride + span - 2 * pad + output_padding


def _pooling(inputs, pool_size, strides, padding, data_format, mode):
    from rkeras import ops

    inputs = ops.convert_to_tensor(inputs)
    nd = _spatial_rank(inputs, f"{mode}_pool")
    data_format = normalize_data_format(data_format)
    x = inputs if data_format == "channels_last" else to_channels_last(inputs)
    pool_size = normalize_tuple(pool_size, nd, "pool_size")
    strides = pool_size if strides is None else normalize_tuple(strides, nd, "strides")
    pads = explicit_padding(x.shape[1:-1], pool_size, strides, (1,) * nd, padding)
    y = _pool(x, list(pool_size), list(strides), pads, mode)
    return y if data_format == "channels_last" else to_channels_first(y)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pooling(inputs, pool_size, strides, padding, data_format, "max")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling; with padding="same" padded cells do not count (as TensorFlow)."""
    return _pooling(inputs, pool_size, strides, padding, data_format, "average")


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over `axes` (the biased variance, as Keras)."""
    return mean(x, axis=axes, keepdims=keepdims), var(x, axis=axes, keepdims=keepdims)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, with the 1-D statistics along `axis`."""
    from rkeras import ops

    x = ops.convert_to_tensor(x)
    axis = axis % len(x.shape)
    shape = [1] * len(x.shape)
    shape[axis] = x.shape[axis]
    inv = 1.0 / sqrt(ops.convert_to_tensor(variance) + epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -ops.convert_to_tensor(mean) * inv
    if offset is not None:
        shift = shift + offset
    return x * reshape(inv, tuple(shape)) + reshape(shift, tuple(shape))


def batch_norm_training(x, gamma, beta, axis, epsilon):
    """The fused training-mode kernel: (output, batch mean, batch variance)."""
    return _batch_norm(x, gamma, beta, axis, epsilon)
