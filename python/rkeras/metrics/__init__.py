"""Metrics with Keras 3's names and state: a `Metric` accumulates over batches in its variables
(`update_state`), reports with `result()` and starts over with `reset_state()`.

Per-sample values come from the same functions as the losses (or the accuracy functions here);
`Mean` weights them by `sample_weight` (and a mask on `y_pred`) exactly as Keras's
`reduce_to_samplewise_values` does. The metrics that keep counts instead of a mean live in
submodules: `confusion_metrics` (TruePositives ... AUC), `f_score_metrics`, `r2_score` and
`iou_metrics`.
"""

import numpy as np

from rkeras import losses as losses_module
from rkeras import ops
from rkeras._core import Tensor
from rkeras.losses import squeeze_or_expand_to_same_rank
from rkeras.saving import serialization_lib
from rkeras.utils.naming import auto_name, to_snake_case
from rkeras.variables import Variable


def _tensor(x, dtype=None):
    if isinstance(x, Tensor) and (dtype is None or str(x.dtype) == dtype):
        return x
    return ops.convert_to_tensor(x, dtype=dtype)


class Metric:
    """Base class: subclasses create state with `add_variable` and implement `update_state` and
    `result`. `_direction` ("up", "down" or None) is whether a higher value is better, as Keras
    records it for EarlyStopping's auto mode."""

    _direction = None

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(to_snake_case(type(self).__name__))  # `auc`, `auc_1`, ... as Keras
        self._dtype = str(dtype) if dtype is not None else "float32"
        self._variables = []

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        return list(self._variables)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        from rkeras import initializers

        dtype = dtype or self._dtype
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=False, name=name or f"variable_{len(self._variables)}")
        variable.aggregation = aggregation
        self._variables.append(variable)
        return variable

    def reset_state(self):
        for v in self._variables:
            v.assign(np.zeros(v.shape, dtype=str(v.dtype)))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _samplewise(values, sample_weight, dtype):
    """(per-sample values, per-sample weights or None): values reduced (mean) over all axes but the
    first, weights broadcast and reduced the same way (Keras's `reduce_to_samplewise_values`)."""
    mask = getattr(values, "_keras_mask", None)
    values = _tensor(values, dtype)
    if mask is not None:
        mask = ops.cast(mask, dtype)
        sample_weight = mask if sample_weight is None else ops.multiply(*squeeze_or_expand_to_same_rank(mask, _tensor(sample_weight, dtype)))
    if sample_weight is not None:
        sample_weight = _tensor(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = len(sample_weight.shape), len(values.shape)
        if v_ndim > w_ndim:
            values = ops.mean(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, tuple(values.shape))
        values = ops.multiply(values, sample_weight)
        if w_ndim > 1:
            sample_weight = ops.mean(sample_weight, axis=tuple(range(1, w_ndim)))
    if len(values.shape) > 1:
        values = ops.mean(values, axis=tuple(range(1, len(values.shape))))
    return values, sample_weight


class Sum(Metric):
    """Running (weighted) sum of the values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = _samplewise(values, sample_weight, self._dtype)
        self.total.assign_add(float(ops.sum(values)))

    def result(self):
        return ops.convert_to_tensor(self.total.numpy())


class Mean(Metric):
    """Running (weighted) mean of the values: Σ w·v / Σ w."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (float, int, np.floating)) and (sample_weight is None or isinstance(sample_weight, (float, int, np.number))):
            # Scalar fast path (the trainer's loss tracker, once per step).
            w = 1.0 if sample_weight is None else float(sample_weight)
            self.total.assign_add(float(values) * w)
            self.count.assign_add(w)
            return
        values, sample_weight = _samplewise(values, sample_weight, self._dtype)
        self.total.assign_add(float(ops.sum(values)))
        if sample_weight is not None:
            self.count.assign_add(float(ops.sum(sample_weight)))
        else:
            self.count.assign_add(float(values.shape[0]) if len(values.shape) else 1.0)

    def result(self):
        total, count = float(self.total.numpy()), float(self.count.numpy())
        return ops.convert_to_tensor(np.asarray(total / count if count else 0.0, dtype=self._dtype))


class MeanMetricWrapper(Mean):
    """The mean over batches of `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if type(self)._direction is None and (getattr(fn, "__module__", None) == losses_module.__name__ or isinstance(fn, losses_module.Loss)):
            self._direction = "down"  # the mean of a loss is minimized

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None and getattr(values, "_keras_mask", None) is None and tuple(mask.shape) == tuple(values.shape):
            values._keras_mask = mask
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            config["fn"] = serialization_lib.serialize_keras_object(self._fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and "fn" in config:
            config["fn"] = serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)


# ----- accuracy functions ----------------------------------------------------------------------
def _pred(y_pred):
    return _tensor(y_pred)


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly, else 0.0."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, str(y_pred.dtype))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of (y_pred > threshold) == y_true."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, str(y_pred.dtype))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = ops.cast(ops.greater(y_pred, threshold), str(y_pred.dtype))
    return ops.mean(ops.cast(ops.equal(y_true, predicted), "float32"), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) over the last axis."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true)
    return ops.cast(ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)), "float32")


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) over the last axis."""
    y_pred = _pred(y_pred)
    labels = np.asarray(y_true)
    if labels.ndim == len(y_pred.shape) and labels.shape and labels.shape[-1] == 1:
        labels = labels[..., 0]
    predicted = ops.argmax(y_pred, axis=-1)
    return ops.cast(ops.equal(predicted, labels.astype(np.int64)), "float32")


# ----- metric classes --------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses_module.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses_module.mean_absolute_error, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0):
        super().__init__(losses_module.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0.0, axis=-1):
        super().__init__(losses_module.categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        super().__init__(losses_module.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits, axis=axis)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Σ normalize(y_true)·normalize(y_pred) along `axis` (the metric is +cosine; the loss −)."""
    return ops.negative(losses_module.cosine_similarity(y_true, y_pred, axis=axis))


def _in_top_k(labels, scores, k):
    """1.0 where fewer than k classes score strictly higher than the label's (ties count in)."""
    scores = np.asarray(scores)
    target = np.take_along_axis(scores, labels[:, None], axis=-1)
    return (np.sum(scores > target, axis=-1) < k).astype("float32")


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the k highest scores."""
    labels = np.argmax(np.asarray(y_true), axis=-1).reshape(-1)
    scores = np.asarray(y_pred).reshape(-1, np.asarray(y_pred).shape[-1])
    return ops.convert_to_tensor(_in_top_k(labels, scores, k).reshape(np.asarray(y_pred).shape[:-1]))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest scores (or, with `from_sorted_ids`,
    among the first k ids of y_pred)."""
    predictions = np.asarray(y_pred)
    labels = np.asarray(y_true).astype(np.int64)
    if labels.ndim == predictions.ndim and labels.shape and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if from_sorted_ids:
        hit = np.any(predictions[..., :k] == labels[..., None], axis=-1).astype("float32")
        return ops.convert_to_tensor(hit)
    scores = predictions.reshape(-1, predictions.shape[-1])
    return ops.convert_to_tensor(_in_top_k(labels.reshape(-1), scores, k).reshape(predictions.shape[:-1]))


def _squared_error(y_true, y_pred):
    return losses_module.mean_squared_error(y_true, y_pred)


def _wrapper_class(fn, class_name, default_name, doc, direction="down", **defaults):
    """A MeanMetricWrapper subclass averaging `fn`, with Keras's class name, default name and
    keyword defaults."""

    def __init__(self, name=default_name, dtype=None, **kwargs):
        params = {**defaults, **kwargs}
        unknown = set(params) - set(defaults)
        if unknown:
            raise TypeError(f"{class_name}.__init__() got unexpected keyword arguments {sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **params)
        for key, value in params.items():
            setattr(self, key, value)

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__, "_direction": direction})


MeanAbsolutePercentageError = _wrapper_class(losses_module.mean_absolute_percentage_error, "MeanAbsolutePercentageError", "mean_absolute_percentage_error", "Mean of 100·|Δ| / max(|y_true|, ε).")
MeanSquaredLogarithmicError = _wrapper_class(losses_module.mean_squared_logarithmic_error, "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "Mean squared difference of log(1 + ·).")
CosineSimilarity = _wrapper_class(cosine_similarity, "CosineSimilarity", "cosine_similarity", "Mean cosine similarity along `axis`.", direction="up", axis=-1)
LogCoshError = _wrapper_class(losses_module.log_cosh, "LogCoshError", "logcosh", "Mean log(cosh(error)).")
KLDivergence = _wrapper_class(losses_module.kl_divergence, "KLDivergence", "kl_divergence", "Mean Σ y_true·log(y_true / y_pred).")
Poisson = _wrapper_class(losses_module.poisson, "Poisson", "poisson", "Mean of y_pred − y_true·log(y_pred + ε).")
Hinge = _wrapper_class(losses_module.hinge, "Hinge", "hinge", "Mean hinge loss.")
SquaredHinge = _wrapper_class(losses_module.squared_hinge, "SquaredHinge", "squared_hinge", "Mean squared hinge loss.")
CategoricalHinge = _wrapper_class(losses_module.categorical_hinge, "CategoricalHinge", "categorical_hinge", "Mean categorical hinge loss.")
TopKCategoricalAccuracy = _wrapper_class(top_k_categorical_accuracy, "TopKCategoricalAccuracy", "top_k_categorical_accuracy", "How often the label is among the k highest scores.", direction="up", k=5)
SparseTopKCategoricalAccuracy = _wrapper_class(sparse_top_k_categorical_accuracy, "SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy", "How often the integer label is among the k highest scores.", direction="up", k=5, from_sorted_ids=False)


class RootMeanSquaredError(Mean):
    """√(mean of (y_pred − y_true)²) over everything seen."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_squared_error(y_true, y_pred), sample_weight=sample_weight)

    def result(self):
        return ops.sqrt(super().result())


mean_squared_error = mse = losses_module.mean_squared_error
mean_absolute_error = mae = losses_module.mean_absolute_error
binary_crossentropy = losses_module.binary_crossentropy
categorical_crossentropy = losses_module.categorical_crossentropy
sparse_categorical_crossentropy = losses_module.sparse_categorical_crossentropy
# Loss functions Keras also exports from `keras.metrics` (the focal ones have no metric class).
binary_focal_crossentropy = losses_module.binary_focal_crossentropy
categorical_focal_crossentropy = losses_module.categorical_focal_crossentropy
mean_absolute_percentage_error = losses_module.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses_module.mean_squared_logarithmic_error
huber = losses_module.huber
log_cosh = losses_module.log_cosh
kl_divergence = losses_module.kl_divergence
poisson = losses_module.poisson
hinge = losses_module.hinge
squared_hinge = losses_module.squared_hinge
categorical_hinge = losses_module.categorical_hinge

_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, KLDivergence, Poisson,
    Hinge, SquaredHinge, CategoricalHinge, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, RootMeanSquaredError,
]
_FUNCTIONS = [
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mean_squared_error,
    mean_absolute_error, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    cosine_similarity, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
]
ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({f.__name__: f for f in _FUNCTIONS})
ALL_OBJECTS_DICT.update({"mse": mse, "MSE": mse, "mae": mae, "MAE": mae})
for _fn in (losses_module.mean_absolute_percentage_error, losses_module.mean_squared_logarithmic_error, losses_module.log_cosh, losses_module.kl_divergence, losses_module.poisson, losses_module.hinge, losses_module.squared_hinge, losses_module.categorical_hinge):
    ALL_OBJECTS_DICT.setdefault(_fn.__name__, _fn)
ALL_OBJECTS_DICT.update({"mape": losses_module.mean_absolute_percentage_error, "MAPE": losses_module.mean_absolute_percentage_error, "msle": losses_module.mean_squared_logarithmic_error, "MSLE": losses_module.mean_squared_logarithmic_error, "logcosh": losses_module.log_cosh, "kld": losses_module.kl_divergence, "top_k_categorical_accuracy": top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy})


from rkeras.metrics.confusion_metrics import (  # noqa: E402
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision, SensitivityAtSpecificity,
    SpecificityAtSensitivity, TrueNegatives, TruePositives,
)
from rkeras.metrics.f_score_metrics import F1Score, FBetaScore  # noqa: E402
from rkeras.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402
from rkeras.metrics.r2_score import R2Score  # noqa: E402

_CLASSES += [
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision, SensitivityAtSpecificity,
    SpecificityAtSensitivity, TrueNegatives, TruePositives, F1Score, FBetaScore, R2Score, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
]
for _cls in _CLASSES:
    ALL_OBJECTS_DICT[_cls.__name__] = _cls
    # Keras also resolves each class by its snake_case name ("auc", "f1_score", "mean_io_u", ...);
    # where a metric function already has that name, the function stays (same values in compile).
    ALL_OBJECTS_DICT.setdefault(to_snake_case(_cls.__name__), _cls)
ALL_OBJECTS_DICT.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy})
# The names Keras's `metrics.get` resolves, each to a class.
_KERAS_NAMES = {name: cls for c in _CLASSES for name, cls in ((c.__name__, c), (to_snake_case(c.__name__), c))}
_KERAS_NAMES.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})


def serialize(metric):
    return serialization_lib.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    return serialization_lib.deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects)


def get(identifier):
    """A metric (object or function) from a name, a config dict, a `Metric` or a function."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        # A name Keras knows stands for its class (`"mae"` -> MeanAbsoluteError(),
        # `"accuracy"` -> Accuracy()), as Keras's `get` returns; other names are functions.
        obj = _KERAS_NAMES.get(identifier) or ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
