"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and their
function forms (`add([a, b])`, …)."""

import functools

from rkeras import ops
from rkeras.layers.layer import Layer

__all__ = [
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
]


class _Merge(Layer):
    """Base of the elementwise merges: a list of inputs whose non-batch shapes broadcast; inputs
    of lower rank get axes inserted after the batch axis first, as in Keras."""

    supports_masking = True
    _min_inputs = 1

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or (shapes and not isinstance(shapes[0], (list, tuple))):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: input_shape={shapes} (not a list of shapes)")
        if len(shapes) < self._min_inputs:
            raise ValueError(
                f"A merge layer should be called on a list of at least {self._min_inputs} input. Received {len(shapes)} inputs. "
                f"Full input_shape received: {shapes}"
            )
        batch = {s[0] for s in shapes if s and s[0] is not None}
        if len(batch) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Got tensors with shapes {shapes}")
        return self._broadcast_shape(shapes)

    def _broadcast_shape(self, shapes):
        """Keras's output shape: the non-batch shapes broadcast (right-aligned), after the one
        known batch size."""
        rest = [tuple(s[1:]) for s in shapes]
        ndim = max(len(r) for r in rest)
        out = []
        for axis in range(1, ndim + 1):
            dims = {r[-axis] for r in rest if len(r) >= axis and r[-axis] != 1}
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"Inputs have incompatible shapes. Received shapes {shapes}")
            out.append(known.pop() if known else (None if None in dims else 1))
        batch = {s[0] for s in shapes if s and s[0] is not None}
        return (batch.pop() if len(batch) == 1 else None,) + tuple(reversed(out))

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self._check_inputs(input_shape)

    def call(self, inputs):
        inputs = _same_rank(inputs)
        return functools.reduce(self._merge, inputs[1:], inputs[0])

    def compute_mask(self, inputs, mask=None):
        # As Keras: a position is valid where any input is; no mask if an input has none.
        if mask is None or any(m is None for m in mask):
            return None
        return functools.reduce(ops.logical_or, mask)


class Add(_Merge):
    """Elementwise sum of the inputs."""

    _merge = staticmethod(ops.add)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""

    def _check_inputs(self, shapes):
        if isinstance(shapes, (list, tuple)) and len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape={shapes}")
        return super()._check_inputs(shapes)

    def call(self, inputs):
        a, b = _same_rank(inputs)
        return ops.subtract(a, b)


class Multiply(_Merge):
    """Elementwise product of the inputs; masked-out entries count as 1 (and the product is 0
    where no input is valid), as in Keras."""

    def call(self, inputs):
        inputs = _same_rank(inputs)
        masks = [_feature_mask(x) for x in inputs]
        if any(m is None for m in masks):
            return functools.reduce(ops.multiply, inputs[1:], inputs[0])
        factors = [ops.where(m, x, ops.ones_like(x)) for x, m in zip(inputs, masks)]
        return ops.where(functools.reduce(ops.logical_or, masks), functools.reduce(ops.multiply, factors), ops.zeros_like(inputs[0]))


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def call(self, inputs):
        inputs = _same_rank(inputs)
        total = functools.reduce(ops.add, inputs[1:], inputs[0])
        return ops.divide(total, float(len(inputs)))


class Maximum(_Merge):
    """Elementwise maximum of the inputs (masked-out entries left out, as in Keras)."""

    def call(self, inputs):
        return _masked_reduce(ops.maximum, _same_rank(inputs))


class Minimum(_Merge):
    """Elementwise minimum of the inputs (masked-out entries left out, as in Keras)."""

    def call(self, inputs):
        return _masked_reduce(ops.minimum, _same_rank(inputs))


class Concatenate(_Merge):
    """Concatenates the inputs along `axis` (all other dimensions must match)."""

    _min_inputs = 1

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 input. Received: input_shape={shapes}")
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. Received: input_shape={shapes}")
        rank = ranks.pop()
        axis = self.axis % rank if rank else 0
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b:
                    raise ValueError(
                        "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
                        f"Received: input_shape={shapes}"
                    )
                elif a is None:
                    out[i] = b
        return tuple(out)

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        # Keras's rule: each mask broadcast to its input's shape (all True where there is none),
        # concatenated along `axis`, then "any" over the last axis.
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = ops.ones(tuple(x.shape), dtype="bool")
            elif m.ndim < x.ndim:
                m = ops.broadcast_to(ops.expand_dims(m, -1), tuple(x.shape))
            full.append(m)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Batched dot product of two inputs over `axes` (cosine similarity with `normalize=True`)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, list, tuple)):
            raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes!r}")
        if isinstance(axes, (list, tuple)) and (len(axes) != 2 or not all(isinstance(a, int) for a in axes)):
            raise ValueError(f"Invalid format for argument `axes`: list should contain two integers. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = normalize

    def _resolve_axes(self, shapes):
        axes = self.axes if isinstance(self.axes, (list, tuple)) else (self.axes, self.axes)
        return tuple(a % len(s) for a, s in zip(axes, shapes))

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={shapes}")
        ax, ay = self._resolve_axes(shapes)
        sx, sy = shapes
        if sx[ax] is not None and sy[ay] is not None and sx[ax] != sy[ay]:
            raise ValueError(f"Incompatible input shapes: axis values {sx[ax]} (at axis {ax}) != {sy[ay]} (at axis {ay}). Full input shapes: {sx}, {sy}")
        out = tuple(d for i, d in enumerate(sx) if i != ax) + tuple(d for i, d in enumerate(sy) if i not in (0, ay))
        return out if len(out) > 1 else out + (1,)

    def call(self, inputs):
        x, y = inputs
        ax, ay = self._resolve_axes([x.shape, y.shape])
        if self.normalize:
            x = _l2_normalize(x, ax)
            y = _l2_normalize(y, ay)
        return _batch_dot(x, y, ax, ay)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _same_rank(inputs):
    """Lower-rank inputs get axes inserted at 1 until all have the highest rank (Keras's merge)."""
    rank = max(x.ndim for x in inputs)
    out = []
    for x in inputs:
        for _ in range(rank - x.ndim):
            x = ops.expand_dims(x, 1)
        out.append(x)
    return out


def _feature_mask(x):
    """An input's timestep mask broadcast over its feature axis, or None."""
    mask = getattr(x, "_keras_mask", None)
    return None if mask is None else ops.broadcast_to(ops.expand_dims(mask, -1), tuple(x.shape))


def _masked_reduce(op, inputs):
    """Keras's max/min of masked inputs: where an input is masked out the others decide."""
    output, output_mask = inputs[0], _feature_mask(inputs[0])
    for x in inputs[1:]:
        mask = _feature_mask(x)
        if mask is not None:
            x = ops.where(mask, x, output)
        if output_mask is not None:
            output = ops.where(output_mask, output, x)
        output_mask = ops.logical_or(output_mask, mask) if mask is not None and output_mask is not None else None
        output = op(output, x)
    return output


def _l2_normalize(x, axis):
    norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))
    return ops.divide(x, norm)


def _batch_dot(x, y, ax, ay):
    """Contract axis `ax` of x with axis `ay` of y, batch axis 0 shared, as one batched matmul."""
    b = x.shape[0]
    x_rest = [d for i, d in enumerate(x.shape) if i not in (0, ax)]
    y_rest = [d for i, d in enumerate(y.shape) if i not in (0, ay)]
    xt = ops.transpose(x, (0,) + tuple(i for i in range(1, x.ndim) if i != ax) + (ax,))
    yt = ops.transpose(y, (0, ay) + tuple(i for i in range(1, y.ndim) if i != ay))
    n = x.shape[ax]
    xm = ops.reshape(xt, (b, -1, n))
    ym = ops.reshape(yt, (b, n, -1))
    out = ops.matmul(xm, ym)
    shape = (b,) + tuple(x_rest) + tuple(y_rest)
    return ops.reshape(out, shape if len(shape) > 1 else (b, 1))


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional form of `{cls.__name__}`: `{merge.__name__}(inputs, **kwargs)`."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
