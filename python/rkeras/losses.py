"""Losses with Keras 3's names, defaults and reductions.

A loss function maps `(y_true, y_pred)` to one value per sample (the last axis is reduced); a
`Loss` object then weights those values by `sample_weight` (and by a mask on `y_pred`) and
reduces them: `"sum_over_batch_size"` (default: sum / number of values), `"sum"`,
`"mean_with_sample_weight"` (sum / sum of weights, 0 when they sum to 0) or `None`/`"none"`.
The heavy lifting (clipped or from-logits crossentropies, squared/absolute errors) is one fused Rust
op each; the other losses are compositions of `rkeras.ops`, so gradients flow through the tape.
"""

import warnings

import numpy as np

from rkeras import ops
from rkeras._core import Tensor
from rkeras.saving import serialization_lib
from rkeras.utils.naming import to_snake_case

_REDUCTIONS = (None, "none", "sum", "sum_over_batch_size", "mean", "mean_with_sample_weight")


def _as_tensor(x, dtype=None):
    """`x` as a Tensor (of `dtype` if given); Tensors of the right dtype pass through."""
    if isinstance(x, Tensor) and (dtype is None or str(x.dtype) == dtype):
        return x
    return ops.convert_to_tensor(x, dtype=dtype)


def _float_dtype(x):
    dtype = str(getattr(x, "dtype", "float32"))
    return dtype if dtype in ("float32", "float64") else "float32"


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks equal when they differ by a trailing axis of size 1 (Keras's rule)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def _divide_no_nan(x, y):
    """x / y, and 0 where y is 0."""
    zero = ops.equal(y, 0.0)
    return ops.where(zero, 0.0, ops.divide(x, ops.where(zero, 1.0, y)))


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if reduction in (None, "none") or tuple(values.shape) in ((), (0,)):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return _divide_no_nan(total, ops.sum(sample_weight))
    size = int(np.prod(values.shape))
    return ops.divide(total, float(max(size, 1))) if size != 1 else total


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample loss `values` by `sample_weight` and `mask`, then reduce."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. Received: reduction={reduction!r}")
    dtype = dtype or _float_dtype(values)
    if sample_weight is not None:
        sample_weight = _as_tensor(sample_weight, dtype)
    if mask is not None:
        mask = ops.cast(mask, dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Masked entries do not count in the batch size: rescale so the mean is over valid ones.
            valid = ops.sum(mask)
            mask = ops.multiply(mask, ops.divide(float(int(np.prod(mask.shape))), ops.maximum(valid, 1.0)))
        sample_weight = mask if sample_weight is None else _broadcast_multiply(*squeeze_or_expand_to_same_rank(mask, sample_weight))
    if sample_weight is None and reduction in ("mean", "sum_over_batch_size"):
        return ops.mean(values) if len(values.shape) else values
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = _broadcast_multiply(values, sample_weight)
    return reduce_values(values, sample_weight, reduction)


def _broadcast_multiply(values, weights):
    """values · weights, with weights of lower rank aligned on the leading (batch) axes."""
    rv, rw = len(values.shape), len(weights.shape)
    if rw < rv and tuple(weights.shape) != tuple(values.shape[rv - rw:]):
        weights = ops.reshape(weights, tuple(weights.shape) + (1,) * (rv - rw))
    return ops.multiply(values, weights)


class Loss:
    """Base class: subclasses implement `call(y_true, y_pred)` returning per-sample values."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS}. Received: reduction={reduction!r}")
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        self._dtype = dtype

    @property
    def dtype(self):
        return self._dtype or "float32"

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _as_tensor(y_pred)
        dtype = self._dtype or _float_dtype(y_pred)
        if str(y_pred.dtype) != dtype:
            y_pred = ops.cast(y_pred, dtype)
        in_mask = getattr(y_pred, "_keras_mask", None)
        values = self.call(y_true, y_pred)
        out_mask = getattr(values, "_keras_mask", None)
        mask = in_mask if out_mask is None else out_mask if in_mask is None else ops.logical_and(in_mask, out_mask)
        return reduce_weighted_values(values, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A `Loss` calling `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        # As Keras: labels and predictions whose ranks differ by a trailing 1 are aligned first.
        y_true, y_pred = squeeze_or_expand_to_same_rank(_as_tensor(y_true, _float_dtype(y_pred)), y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialization_lib.serialize_keras_object(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper and "fn" in config:
            config["fn"] = serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)


# ----- functions -------------------------------------------------------------------------------
def _targets(y_true, y_pred):
    y_true = _as_tensor(y_true, _float_dtype(y_pred))
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)², axis=-1)."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    return ops.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1)."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    return ops.mean_absolute_error(y_true, y_pred)


_EPSILON = 1e-7  # backend.epsilon()


def _check_label_smoothing(label_smoothing):
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}")


def _categorical_targets(y_true, y_pred, label_smoothing, axis, fn_name):
    """Validated (y_true, y_pred) of one shape, labels smoothed towards 1/num_classes."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    _check_label_smoothing(label_smoothing)
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, _float_dtype(y_pred))
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if y_pred.shape and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}. Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )
    if label_smoothing:
        # Keras counts the classes on the last axis whatever `axis` is.
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / float(y_pred.shape[-1]))
    return y_true, y_pred


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-Σ y_true·log(y_pred) over `axis` (probabilities renormalized and clipped to [ε, 1-ε])."""
    y_true, y_pred = _categorical_targets(y_true, y_pred, label_smoothing, axis, "categorical_crossentropy")
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Σ over `axis` of alpha·(1 − p)^gamma · (−y_true·log p), p the renormalized probabilities
    clipped to [ε, 1-ε] (softmax first with `from_logits`); `alpha` may be one weight per class."""
    y_true, y_pred = _categorical_targets(y_true, y_pred, label_smoothing, axis, "categorical_focal_crossentropy")
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    output = ops.clip(ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True)), _EPSILON, 1.0 - _EPSILON)
    if not isinstance(alpha, (int, float)):
        alpha = _as_tensor(np.asarray(alpha), str(output.dtype))
    weight = ops.multiply(ops.power(ops.subtract(1.0, output), float(gamma)), alpha)
    return ops.sum(ops.multiply(weight, ops.negative(ops.multiply(y_true, ops.log(output)))), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Categorical crossentropy with integer labels; labels equal to `ignore_class` contribute 0
    and are masked out of the mean."""
    y_pred = _as_tensor(y_pred)
    labels = np.asarray(y_true)
    if labels.dtype.kind == "f":
        labels = labels.astype(np.int64)
    if labels.ndim == len(y_pred.shape) and labels.shape and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis)
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits, axis=axis)
    valid = labels != ignore_class
    values = ops.sparse_categorical_crossentropy(np.where(valid, labels, 0), y_pred, from_logits=from_logits, axis=axis)
    values = ops.multiply(values, valid.astype(str(values.dtype)))
    values._keras_mask = ops.convert_to_tensor(valid)
    return values


def _binary_targets(y_true, y_pred, label_smoothing):
    """(y_true, y_pred) aligned, labels smoothed towards 0.5."""
    _check_label_smoothing(label_smoothing)
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return y_true, y_pred


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of -(y·log p + (1-y)·log(1-p)) (p clipped to [ε, 1-ε], or from logits)."""
    y_true, y_pred = _binary_targets(y_true, y_pred, label_smoothing)
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of (1 − p_t)^gamma · bce, p_t = y·p + (1 − y)·(1 − p) (p = sigmoid(y_pred)
    with `from_logits`); with `apply_class_balancing` also weighted alpha (class 1) / 1 − alpha."""
    y_true, y_pred = _binary_targets(y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    not_true = ops.subtract(1.0, y_true)
    p_t = ops.add(ops.multiply(y_true, y_pred), ops.multiply(not_true, ops.subtract(1.0, y_pred)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), float(gamma)), bce)
    if apply_class_balancing:
        focal = ops.multiply(ops.add(ops.multiply(y_true, float(alpha)), ops.multiply(not_true, 1.0 - float(alpha))), focal)
    return ops.mean(focal, axis=axis)


def mean_absolute_percentage_error(y_true, y_pred):
    """100·mean(|y_true − y_pred| / max(|y_true|, ε), axis=-1)."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    diff = ops.abs(ops.divide(ops.subtract(y_true, y_pred), ops.maximum(ops.abs(y_true), _EPSILON)))
    return ops.multiply(ops.mean(diff, axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))², axis=-1)."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    first = ops.log(ops.add(ops.maximum(y_pred, _EPSILON), 1.0))
    second = ops.log(ops.add(ops.maximum(y_true, _EPSILON), 1.0))
    return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


def _l2_normalize(x, axis):
    """x·min(1/√Σx², 1/ε) along `axis` (Keras's `ops.normalize` with order 2)."""
    inv = ops.minimum(ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))), 1.0 / _EPSILON)
    return ops.multiply(x, inv)


def cosine_similarity(y_true, y_pred, axis=-1):
    """−Σ normalize(y_true)·normalize(y_pred) over `axis` (−1 for identical directions)."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis), _l2_normalize(y_pred, axis)), axis=axis))


def huber(y_true, y_pred, delta=1.0):
    """mean of ½e² where |e| ≤ delta, else delta·|e| − ½delta² (e = y_pred − y_true), axis=-1."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(abs_error, float(delta)), 0.5 * float(delta) ** 2)
    return ops.mean(ops.where(ops.less_equal(abs_error, float(delta)), quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred − y_true)), axis=-1), computed as x + softplus(−2x) − log 2."""
    y_pred = _as_tensor(y_pred)
    y_true, y_pred = _targets(y_true, y_pred)
    x = ops.subtract(y_pred, y_true)
    return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2.0))), float(np.log(2.0))), axis=-1)


def kl_divergence(y_true, y_pred):
    """Σ y_true·log(y_true / y_pred), both clipped to [ε, 1], axis=-1."""
    y_pred = _as_tensor(y_pred)
    y_true = ops.clip(_as_tensor(y_true, _float_dtype(y_pred)), _EPSILON, 1.0)
    y_pred = ops.clip(y_pred, _EPSILON, 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred − y_true·log(y_pred + ε), axis=-1)."""
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, _float_dtype(y_pred))
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.add(y_pred, _EPSILON)))), axis=-1)


def _hinge_labels(y_true, y_pred):
    """Labels as ±1: 0/1 labels are converted (2y − 1), others kept (Keras's rule)."""
    labels = np.asarray(y_true, dtype=_float_dtype(y_pred))
    if labels.size and np.all((labels == 0) | (labels == 1)):
        labels = 2.0 * labels - 1.0
    return _as_tensor(labels, _float_dtype(y_pred))


def hinge(y_true, y_pred):
    """mean(max(1 − y_true·y_pred, 0), axis=-1), labels in {−1, 1} (0/1 converted)."""
    y_pred = _as_tensor(y_pred)
    y_true = _hinge_labels(y_true, y_pred)
    return ops.mean(ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 − y_true·y_pred, 0)², axis=-1), labels in {−1, 1} (0/1 converted)."""
    y_pred = _as_tensor(y_pred)
    y_true = _hinge_labels(y_true, y_pred)
    return ops.mean(ops.square(ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 − y_true)·y_pred) − Σ y_true·y_pred + 1, 0) over the last axis."""
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, _float_dtype(y_pred))
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


def _overlap_terms(y_true, y_pred, axis):
    """(y_true, y_pred, axis) validated for the overlap losses; `axis` None, an int or a tuple."""
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, _float_dtype(y_pred))
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `y_true` and `y_pred` must have the same shape. "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    return y_true, y_pred, tuple(axis) if isinstance(axis, list) else axis


def dice(y_true, y_pred, axis=None):
    """1 − 2·Σ y_true·y_pred / (Σ y_true + Σ y_pred + ε), sums over `axis` (all axes if None)."""
    y_true, y_pred, axis = _overlap_terms(y_true, y_pred, axis)
    intersection = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    total = ops.add(ops.add(ops.sum(y_true, axis=axis), ops.sum(y_pred, axis=axis)), _EPSILON)
    return ops.subtract(1.0, ops.divide(ops.multiply(intersection, 2.0), total))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 − TP / (TP + alpha·FP + beta·FN + ε) with TP = Σ y_true·y_pred, FP = Σ (1 − y_pred)·y_true
    and FN = Σ y_pred·(1 − y_true) over `axis` (Keras's naming of the two error terms)."""
    y_true, y_pred, axis = _overlap_terms(y_true, y_pred, axis)
    intersection = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    fp = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y_true), axis=axis)
    fn = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y_true)), axis=axis)
    denominator = ops.add(ops.add(ops.add(intersection, ops.multiply(fp, float(alpha))), ops.multiply(fn, float(beta))), _EPSILON)
    return ops.subtract(1.0, ops.divide(intersection, denominator))

# ----- classes ---------------------------------------------------------------------------------
# Signatures are Keras's, positional order included. Configs hold every argument of the loss
# function (Keras 3.15 leaves `axis` out of CosineSimilarity's and SparseCategoricalCrossentropy's
# configs and `delta` out of Huber's, so its round trip loses them; Keras reads these configs too).
class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy down-weighting well-classified examples by alpha·(1 − p)^gamma."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.alpha, self.gamma, self.from_logits, self.label_smoothing, self.axis = alpha, gamma, from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting well-classified examples by (1 − p_t)^gamma, optionally
    class-balanced by alpha."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype, apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CosineSimilarity(LossFunctionWrapper):
    """−cosine similarity along `axis`."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Huber(LossFunctionWrapper):
    """Quadratic for |error| ≤ delta, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class Dice(LossFunctionWrapper):
    """1 − Dice coefficient of y_true and y_pred over `axis` (all axes if None)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        axis = tuple(axis) if isinstance(axis, list) else axis  # a JSON config gives a list
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """1 − Tversky index over `axis`: alpha weighs false positives, beta false negatives
    (alpha = beta = 0.5 is Dice)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        axis = tuple(axis) if isinstance(axis, list) else axis  # a JSON config gives a list
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis


def _simple_loss_class(fn, class_name, doc):
    """A LossFunctionWrapper subclass for `fn` (no arguments but y_true, y_pred) with Keras's
    class name."""

    def __init__(self, reduction="sum_over_batch_size", name=fn.__name__, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


MeanAbsolutePercentageError = _simple_loss_class(mean_absolute_percentage_error, "MeanAbsolutePercentageError", "100·mean(|Δ| / max(|y_true|, ε)).")
MeanSquaredLogarithmicError = _simple_loss_class(mean_squared_logarithmic_error, "MeanSquaredLogarithmicError", "mean of squared differences of log(1 + ·).")
LogCosh = _simple_loss_class(log_cosh, "LogCosh", "mean(log(cosh(error))).")
KLDivergence = _simple_loss_class(kl_divergence, "KLDivergence", "Σ y_true·log(y_true / y_pred).")
Poisson = _simple_loss_class(poisson, "Poisson", "mean(y_pred − y_true·log(y_pred + ε)).")
Hinge = _simple_loss_class(hinge, "Hinge", "mean(max(1 − y_true·y_pred, 0)).")
SquaredHinge = _simple_loss_class(squared_hinge, "SquaredHinge", "mean(max(1 − y_true·y_pred, 0)²).")
CategoricalHinge = _simple_loss_class(categorical_hinge, "CategoricalHinge", "max(max negative score − positive score + 1, 0).")


# Keras's short aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_CLASSES = [
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, CategoricalCrossentropy, CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy, BinaryCrossentropy, BinaryFocalCrossentropy, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, Dice, Tversky,
]
_FUNCTIONS = [
    mean_squared_error, mean_absolute_error, categorical_crossentropy, categorical_focal_crossentropy,
    sparse_categorical_crossentropy, binary_crossentropy, binary_focal_crossentropy, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, kl_divergence, poisson, hinge, squared_hinge,
    categorical_hinge, dice, tversky,
]
ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({f.__name__: f for f in _FUNCTIONS})
ALL_OBJECTS_DICT.update({"mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error, "MAE": mean_absolute_error, "bce": binary_crossentropy, "BCE": binary_crossentropy, "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error, "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence, "logcosh": log_cosh, "huber_loss": huber})


def serialize(loss):
    return serialization_lib.serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    return serialization_lib.deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects)


def get(identifier):
    """A loss from a name ("mse", "categorical_crossentropy", "MeanSquaredError"…), a config
    dict, a `Loss` or a function. Classes are instantiated with their defaults."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier}")
