"""Confusion-matrix metrics with Keras 3's names, defaults and formulas: TruePositives,
FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall and AUC (ROC and PR curves,
Riemann or interpolated sums). Counts are accumulated on the host (numpy) per threshold:
predictions count as positive when strictly above a threshold, as in Keras."""

import numpy as np

from rkeras import ops
from rkeras.metrics import Metric

_EPSILON = 1e-7


def _thresholds(thresholds, default=0.5):
    values = [default] if thresholds is None else ([thresholds] if np.isscalar(thresholds) else list(thresholds))
    for t in values:
        if not 0.0 <= float(t) <= 1.0:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {values}")
    return np.asarray(values, np.float64), thresholds is None or np.isscalar(thresholds)


def _confusion(y_true, y_pred, thresholds, sample_weight, class_id=None, top_k=None):
    """(tp, fp, tn, fn) per threshold, weighted by sample_weight (broadcast over classes)."""
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape:
        if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
            y_pred = y_pred[..., 0]
        if y_true.shape != y_pred.shape:
            raise ValueError(f"Shapes of `y_true` and `y_pred` must match. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    weight = np.ones_like(y_pred) if sample_weight is None else np.broadcast_to(np.reshape(np.asarray(sample_weight, np.float64), np.shape(sample_weight) + (1,) * (y_pred.ndim - np.ndim(sample_weight))), y_pred.shape)
    if top_k is not None:
        # Only each row's k highest predictions can be positive.
        kth = -np.sort(-y_pred, axis=-1)[..., top_k - 1 : top_k]
        y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
    if class_id is not None:
        y_true, y_pred, weight = y_true[..., class_id], y_pred[..., class_id], weight[..., class_id]
    positive = (y_true > 0.5).reshape(-1)
    pred = y_pred.reshape(-1)
    w = weight.reshape(-1)
    above = pred[None, :] > thresholds[:, None]
    tp = (above & positive).astype(np.float64) @ w
    fp = (above & ~positive).astype(np.float64) @ w
    fn = (~above & positive).astype(np.float64) @ w
    tn = (~above & ~positive).astype(np.float64) @ w
    return tp, fp, tn, fn


class _ConfusionCount(Metric):
    _index = None  # 0 tp, 1 fp, 2 tn, 3 fn

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds, self._scalar = _thresholds(thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = _confusion(y_true, y_pred, self.thresholds, sample_weight)[self._index]
        self.accumulator.assign(np.asarray(self.accumulator.numpy(), np.float64) + counts)

    def result(self):
        value = np.asarray(self.accumulator.numpy())
        return ops.convert_to_tensor(np.asarray(value[0] if self._scalar else value, self._dtype))

    def get_config(self):
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


class TruePositives(_ConfusionCount):
    _index = 0


class FalsePositives(_ConfusionCount):
    _index = 1


class TrueNegatives(_ConfusionCount):
    _index = 2


class FalseNegatives(_ConfusionCount):
    _index = 3


class _PrecisionRecall(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k, self.class_id = top_k, class_id
        # With top_k and no threshold, every kept prediction counts (Keras's NEG_INF threshold).
        default = -np.inf if top_k is not None and thresholds is None else 0.5
        if thresholds is None:
            self.thresholds, self._scalar = np.asarray([default]), True
        else:
            self.thresholds, self._scalar = _thresholds(thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self.false_other = self.add_variable(shape=(n,), name=self._other_name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = _confusion(y_true, y_pred, self.thresholds, sample_weight, self.class_id, self.top_k)
        self.true_positives.assign(np.asarray(self.true_positives.numpy(), np.float64) + tp)
        other = fp if self._other_name == "false_positives" else fn
        self.false_other.assign(np.asarray(self.false_other.numpy(), np.float64) + other)

    def result(self):
        tp, other = np.asarray(self.true_positives.numpy(), np.float64), np.asarray(self.false_other.numpy(), np.float64)
        value = np.divide(tp, tp + other, out=np.zeros_like(tp), where=(tp + other) != 0)
        return ops.convert_to_tensor(np.asarray(value[0] if self._scalar else value, self._dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id})
        return config


class Precision(_PrecisionRecall):
    """tp / (tp + fp) at each threshold (default 0.5)."""

    _other_name = "false_positives"


class Recall(_PrecisionRecall):
    """tp / (tp + fn) at each threshold (default 0.5)."""

    _other_name = "false_negatives"


class AUC(Metric):
    """Area under the ROC or PR curve from counts at `num_thresholds` evenly spaced thresholds
    (plus −ε and 1+ε); "interpolation" uses the trapezoid for ROC and Davis & Goadrich's
    interpolation for PR, "minoring"/"majoring" the lower/upper Riemann sums."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: ROC, PR')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}". Expected one of: interpolation, minoring, majoring')
        if multi_label or label_weights is not None:
            raise ValueError("AUC: multi_label and label_weights are not supported by rkeras yet.")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._init_thresholds = thresholds
        self.thresholds = np.asarray([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.num_labels, self.label_weights, self._from_logits = multi_label, num_labels, label_weights, from_logits
        shape = (self.num_thresholds,)
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, np.float64)
        if self._from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        counts = _confusion(y_true, y_pred, self.thresholds, sample_weight)
        for var, c in zip((self.true_positives, self.false_positives, self.true_negatives, self.false_negatives), counts):
            var.assign(np.asarray(var.numpy(), np.float64) + c)

    def result(self):
        tp, fp, tn, fn = (np.asarray(v.numpy(), np.float64) for v in (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives))

        def div(a, b):
            return np.divide(a, b, out=np.zeros_like(a), where=b != 0)

        if self.curve == "PR" and self.summation_method == "interpolation":
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = div(dtp, np.maximum(dp, 0))
            intercept = tp[1:] - slope * p[1:]
            both = (p[:-1] > 0) & (p[1:] > 0)
            ratio = np.where(both, div(p[:-1], np.maximum(p[1:], 0)), 1.0)
            with np.errstate(divide="ignore"):
                log_ratio = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)
            value = np.sum(div(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)))
        else:
            recall = div(tp, tp + fn)
            if self.curve == "ROC":
                x, y = div(fp, fp + tn), recall
            else:
                x, y = recall, div(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            value = np.sum((x[:-1] - x[1:]) * heights)
        return ops.convert_to_tensor(np.asarray(value, self._dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"num_thresholds": self.num_thresholds, "curve": self.curve, "summation_method": self.summation_method, "multi_label": self.multi_label, "num_labels": self.num_labels, "label_weights": self.label_weights, "from_logits": self._from_logits, "thresholds": self._init_thresholds})
        return config
