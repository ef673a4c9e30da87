"""Confusion-matrix metrics with Keras 3's names, defaults, variables and formulas: the counts
(TruePositives, FalsePositives, TrueNegatives, FalseNegatives), Precision and Recall (thresholds,
top_k, class_id), the "X at Y" family (PrecisionAtRecall, RecallAtPrecision,
SensitivityAtSpecificity, SpecificityAtSensitivity) and AUC (ROC, PR and PR-gain curves, Riemann or
interpolated sums, multi-label with label weights).

Counting runs in numpy on the host (metrics are off the gradient path). A label is positive when
non-zero and a prediction is positive at threshold t when y_pred > t, as in Keras. Each element is
mapped to the number of thresholds below it (`searchsorted`, or Keras's bucket formula when the
thresholds are evenly spaced), so all thresholds are counted at once with a `bincount` and a
reverse cumulative sum: O(N + T) memory, no loop over samples or thresholds.
"""

import numpy as np

from rkeras import ops
from rkeras.losses import squeeze_or_expand_to_same_rank
from rkeras.metrics import Metric

NEG_INF = -1e10  # Keras's threshold for "every top-k prediction counts"
_EPSILON = 1e-7  # backend.epsilon()


def _as_list(thresholds):
    return list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]


def parse_thresholds(thresholds, default=0.5):
    """The thresholds as a list (`[default]` for None); each must lie in [0, 1]."""
    if thresholds is None:
        return [default]
    values = _as_list(thresholds)
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return values


def evenly_distributed(thresholds):
    """True for >= 3 thresholds equal (to 1e-7) to 0, 1/(n-1), ..., 1 (Keras's fast path)."""
    n = len(thresholds)
    return n >= 3 and bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=_EPSILON))


def _same_rank(x1, x2, expand_rank_1=True):
    if np.ndim(x1) == np.ndim(x2):
        return x1, x2
    x1, x2 = squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=expand_rank_1)
    return np.asarray(x1), np.asarray(x2)


def _broadcast(weights, shape, what):
    try:
        return np.broadcast_to(weights, shape)
    except ValueError:
        raise ValueError(f"`{what}` must be broadcastable to the shape of `y_pred`. Received: {what}.shape={np.shape(weights)}, y_pred.shape={tuple(shape)}") from None


def _keep_top_k(y_pred, k):
    """y_pred with all but each row's k largest values (lower index first on ties) set to NEG_INF."""
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, y_pred, y_pred.dtype.type(NEG_INF))


def confusion_counts(y_true, y_pred, thresholds, evenly=False, sample_weight=None, top_k=None, class_id=None, multi_label=False, label_weights=None, dtype="float32"):
    """(tp, fp, tn, fn): weighted counts per threshold, each of shape (T,), or (T, labels) with
    `multi_label` (labels on the last axis of a rank-2 y_pred)."""
    y_true = np.asarray(y_true).astype(dtype)
    y_pred = np.asarray(y_pred).astype(dtype)
    thresholds = np.asarray(thresholds, dtype)
    y_pred, y_true = _same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same shape. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight).astype(dtype)[..., None]
        _, sample_weight = _same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]

    weights = np.ones(y_pred.shape, np.float64) if sample_weight is None else _broadcast(sample_weight, y_pred.shape, "sample_weight").astype(np.float64)
    if label_weights is not None and not multi_label:
        weights = weights * _broadcast(np.asarray(label_weights, dtype)[None], y_pred.shape, "label_weights")

    n = len(thresholds)
    if evenly:
        # Keras's bucket: ceil(p·(n−1)) − 1 on p clipped to [0, 1], floored at 0 when the end
        # thresholds carry ±epsilon; a prediction is above the thresholds 0..bucket.
        bucket = np.ceil(np.clip(y_pred, 0, 1) * y_pred.dtype.type(n - 1)) - 1
        if thresholds[0] < 0 or thresholds[-1] > 1:
            bucket = np.maximum(bucket, 0)
        below = np.where(np.isnan(bucket), -1, bucket).astype(np.int64) + 1
        order = None
    else:
        order = np.argsort(thresholds, kind="stable")
        below = np.searchsorted(thresholds[order], y_pred, side="left")
        below[np.isnan(y_pred)] = 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.ndim}. Full shape received for `y_pred`: {y_pred.shape}")
        num_labels = y_pred.shape[1]
        below = below + np.arange(num_labels) * (n + 1)
    else:
        num_labels = 1
    positive = (y_true != 0).ravel()
    w = weights.ravel()
    index = below.ravel()
    pos_bins = np.bincount(index, weights=np.where(positive, w, 0.0), minlength=num_labels * (n + 1)).reshape(num_labels, n + 1)
    neg_bins = np.bincount(index, weights=np.where(positive, 0.0, w), minlength=num_labels * (n + 1)).reshape(num_labels, n + 1)
    # Above threshold j: the elements with more than j thresholds below them.
    tp = np.cumsum(pos_bins[:, ::-1], axis=1)[:, ::-1][:, 1:]
    fp = np.cumsum(neg_bins[:, ::-1], axis=1)[:, ::-1][:, 1:]
    fn = pos_bins.sum(axis=1, keepdims=True) - tp
    tn = neg_bins.sum(axis=1, keepdims=True) - fp
    counts = []
    for c in (tp, fp, tn, fn):
        if order is not None:
            unsorted = np.empty_like(c)
            unsorted[:, order] = c
            c = unsorted
        counts.append(c.T if multi_label else c[0])
    return tuple(counts)


def divide_no_nan(a, b):
    """a / b, 0 where b == 0."""
    a, b = np.broadcast_arrays(a, b)
    return np.divide(a, b, out=np.zeros(a.shape, np.result_type(a, b)), where=b != 0)


class _ConfusionMetric(Metric):
    """Shared state handling: zero variables of one shape, counts added from `confusion_counts`."""

    def _add_counts(self, variables, y_true, y_pred, sample_weight, **kwargs):
        counts = dict(zip(("tp", "fp", "tn", "fn"), confusion_counts(y_true, y_pred, self.thresholds, evenly=self._thresholds_distributed_evenly, sample_weight=sample_weight, dtype=self.dtype, **kwargs)))
        for key, variable in variables.items():
            variable.assign((np.asarray(variable.numpy(), np.float64) + counts[key]).astype(self.dtype))

    def _value(self, variable):
        return np.asarray(variable.numpy()).astype(self.dtype)

    def _tensor(self, value):
        return ops.convert_to_tensor(np.asarray(value, self.dtype))


class _ConfusionMatrixConditionCount(_ConfusionMetric):
    """The weighted count of one confusion-matrix cell at each threshold."""

    _cell = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, default=0.5)
        self._thresholds_distributed_evenly = evenly_distributed(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts({self._cell: self.accumulator}, y_true, y_pred, sample_weight)

    def result(self):
        value = self._value(self.accumulator)
        return self._tensor(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of positive labels predicted above each threshold (default 0.5)."""

    _cell = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of negative labels predicted above each threshold (default 0.5)."""

    _cell = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of negative labels predicted at or below each threshold (default 0.5)."""

    _cell = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of positive labels predicted at or below each threshold (default 0.5)."""

    _cell = "fn"


class _PrecisionRecall(_ConfusionMetric):
    """tp / (tp + other) at each threshold; with `top_k` only each row's k highest predictions
    can be positive (and with no thresholds every one of them is); `class_id` keeps one class."""

    _direction = "up"

    _other = None  # "fp" (Precision) or "fn" (Recall)

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, default=0.5 if top_k is None else NEG_INF)
        self._thresholds_distributed_evenly = evenly_distributed(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        other = self.add_variable(shape=(n,), name="false_positives" if self._other == "fp" else "false_negatives")
        setattr(self, other.name, other)
        self._other_variable = other

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts({"tp": self.true_positives, self._other: self._other_variable}, y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def result(self):
        tp = self._value(self.true_positives)
        value = divide_no_nan(tp, tp + self._value(self._other_variable))
        return self._tensor(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp) at each threshold (default 0.5)."""

    _other = "fp"


class Recall(_PrecisionRecall):
    """tp / (tp + fn) at each threshold (default 0.5)."""

    _other = "fn"


class SensitivitySpecificityBase(_ConfusionMetric):
    """All four counts at `num_thresholds` evenly spaced thresholds in [0, 1] (one threshold, 0.5,
    when num_thresholds == 1); subclasses report the best value of one rate among the thresholds
    where another rate reaches `value`."""

    _direction = "up"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            self.thresholds = [0.0] + [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
            self._thresholds_distributed_evenly = True
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        variables = {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives, "fn": self.false_negatives}
        self._add_counts(variables, y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, fp, tn, fn = (self._value(v) for v in (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives))
        return {"sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp), "precision": divide_no_nan(tp, tp + fp)}

    def _find_max_under_constraint(self, constrained, dependent):
        """max(dependent where constrained >= value), 0 when no threshold qualifies."""
        feasible = constrained >= np.dtype(self.dtype).type(self.value)
        return self._tensor(np.max(np.where(feasible, dependent, 0), initial=0))

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_rate(name, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. Received: {name}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds whose specificity is >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._find_max_under_constraint(rates["specificity"], rates["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity among thresholds whose sensitivity (recall) is >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._find_max_under_constraint(rates["sensitivity"], rates["specificity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision among thresholds whose recall is >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(value=recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._find_max_under_constraint(rates["sensitivity"], rates["precision"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall among thresholds whose precision is >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(value=precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        rates = self._rates()
        return self._find_max_under_constraint(rates["precision"], rates["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "precision": self.precision}


_CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN", "prgain": "PRGAIN"}
_SUMMATIONS = {key: key.lower() for key in ("interpolation", "Interpolation", "majoring", "Majoring", "minoring", "Minoring")}


class AUC(_ConfusionMetric):
    """Area under the ROC, PR or PR-gain curve from the counts at `num_thresholds` thresholds
    (evenly spaced, or the given `thresholds`, plus −ε and 1+ε at the ends). "interpolation" is the
    trapezoid rule (for PR, Davis & Goadrich's interpolation of the counts), "minoring" and
    "majoring" the lower and upper Riemann sums. With `multi_label` each label (last axis) has its
    own curve and the result is their mean, weighted by `label_weights`; otherwise labels are
    flattened and `label_weights` weight the counts."""

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PRGAIN"]')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATIONS[summation_method]
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, self.dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds, −ε and 1+ε included."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. Full shape received for `y_pred`: {tuple(shape)}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=variable_shape, name="true_positives")
        self.false_positives = self.add_variable(shape=variable_shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=variable_shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=variable_shape, name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_pred.shape)
        if self.multi_label and (y_pred.ndim != 2 or y_pred.shape[1] != self._num_labels):
            raise ValueError(f"`y_pred` must have shape (batch_size, {self._num_labels}) for this multi-label AUC. Received: y_pred.shape={y_pred.shape}")
        if self._from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        variables = {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives, "fn": self.false_negatives}
        label_weights = None if self.multi_label else self.label_weights
        self._add_counts(variables, y_true, y_pred, sample_weight, multi_label=self.multi_label, label_weights=label_weights)

    def _counts(self):
        return tuple(self._value(v) for v in (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives))

    def _over_labels(self, per_threshold):
        """Σ over thresholds; with multi_label, the (label-weighted) mean of the per-label sums."""
        if not self.multi_label:
            return np.sum(per_threshold)
        by_label = np.sum(per_threshold, axis=0)
        if self.label_weights is None:
            return np.mean(by_label)
        return divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))

    def interpolate_pr_auc(self):
        """PR AUC interpolating the counts between thresholds (Davis & Goadrich 2006): precision
        along a segment is (Δtp/Δp)·(1 − intercept/p), integrated in closed form."""
        tp, fp, _, fn = self._counts()
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), np.ones_like(p[1:]))
        increments = divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return self._tensor(self._over_labels(increments))

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = self._counts()
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            # Precision-recall gain (Flach & Kull 2015), with Keras's conventions where tp == 0.
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scaling * divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scaling * divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0).astype(self.dtype), precision_gain.astype(self.dtype)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._tensor(self._over_labels((x[:-1] - x[1:]) * heights))

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
