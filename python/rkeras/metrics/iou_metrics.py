"""Intersection-over-union metrics with Keras 3's arguments, variables and formulas: IoU, MeanIoU,
BinaryIoU, OneHotIoU and OneHotMeanIoU accumulate a (num_classes, num_classes) confusion matrix
(rows true, columns predicted; integer dtype by default, so weights are cast to it as in Keras) and
report tp / (tp + fp + fn) averaged over the target classes that occurred. Built on the host with
one `bincount` per batch."""

import warnings

import numpy as np

from rkeras import ops
from rkeras.metrics import Metric

_EPSILON = 1e-7  # backend.epsilon()


def _standardize_dtype(dtype):
    return {"int": "int32", "float": "float32"}.get(str(dtype), str(dtype))


class _IoUBase(Metric):
    """The running confusion matrix; labels (and predictions) out of [0, num_classes) and
    `ignore_class` labels are left out. Dense (one-hot / score) inputs are argmax-ed over `axis`
    unless `sparse_y_true` / `sparse_y_pred`."""

    _direction = "up"

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=_standardize_dtype(dtype or "int"))
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(shape=(num_classes, num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = y_true.astype(self.dtype).reshape(-1)
        y_pred = y_pred.astype(self.dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"`y_true` and `y_pred` must have the same number of elements. Received: y_true.size={y_true.size}, y_pred.size={y_pred.size}")
        if sample_weight is None:
            weights = np.ones(y_true.shape, self.dtype)
        else:
            sample_weight = np.asarray(sample_weight)
            if sample_weight.dtype.kind == "f" and "int" in self.dtype:
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an incorrect weight due to type casting Consider using integer weights.")
            weights = sample_weight.astype(self.dtype).reshape(-1) if sample_weight.ndim > 1 else sample_weight.astype(self.dtype)
            try:
                weights = np.broadcast_to(weights, y_true.shape)
            except ValueError:
                raise ValueError(f"`sample_weight` must be broadcastable to the flattened labels. Received: sample_weight.shape={sample_weight.shape}, y_true.size={y_true.size}") from None
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        index = np.where(valid, y_true, 0).astype(np.int64) * n + np.where(valid, y_pred, 0).astype(np.int64)
        cm = np.bincount(index, weights=np.where(valid, weights, 0).astype(np.float64), minlength=n * n).reshape(n, n)
        total = np.asarray(self.total_cm.numpy())
        self.total_cm.assign((total + cm.astype(total.dtype)).astype(total.dtype))


class IoU(_IoUBase):
    """Mean IoU over `target_class_ids`: for each, tp / (tp + fp + fn) from the running confusion
    matrix; classes that never occurred (in labels or predictions) are left out of the mean."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, num_classes=num_classes, ignore_class=ignore_class, sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis, dtype=dtype)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = np.asarray(self.total_cm.numpy()).astype(self.dtype)
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = np.asarray(self.target_class_ids, np.int64)
        true_positives = true_positives[ids].astype(np.float32)
        denominator = denominator[ids].astype(np.float32)
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + np.float32(_EPSILON)), np.float32(0.0))
        return ops.convert_to_tensor(np.asarray(np.sum(iou, axis=self.axis) / (np.sum(valid.astype(np.float32)) + np.float32(_EPSILON)), np.float32))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of two classes, a prediction counting as class 1 when >= `threshold`."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = (np.asarray(y_pred).astype(np.float32) >= self.threshold).astype(self.dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, num_classes=num_classes, target_class_ids=list(range(num_classes)), axis=axis, dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU with one-hot labels (and, unless `sparse_y_pred`, score predictions)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot labels (and, unless `sparse_y_pred`, score predictions)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, axis=axis, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
