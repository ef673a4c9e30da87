"""R2Score (coefficient of determination) with Keras 3's arguments, variables and formula:
1 − Σw(y − ŷ)² / (Σw·y² − (Σw·y)²/Σw) per output column, aggregated uniformly or by variance,
optionally adjusted for `num_regressors`. Sums run in numpy on the host."""

import warnings

import numpy as np

from rkeras import ops
from rkeras.losses import squeeze_or_expand_to_same_rank
from rkeras.metrics import Metric


class R2Score(Metric):
    """R² of (batch_size, output_dim) regressions; `class_aggregation` None (per output),
    "uniform_average" or "variance_weighted_average"."""

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {valid}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}.")
        num_classes = y_pred_shape[-1]
        self.squared_sum = self.add_variable(shape=(num_classes,), name="squared_sum")
        self.sum = self.add_variable(shape=(num_classes,), name="sum")
        self.total_mse = self.add_variable(shape=(num_classes,), name="residual")
        self.count = self.add_variable(shape=(num_classes,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = np.asarray(y_pred).astype(self.dtype)
        if y_true.ndim != y_pred.ndim:
            y_true, y_pred = (np.asarray(v) for v in squeeze_or_expand_to_same_rank(y_true, y_pred))
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"`y_true` and `y_pred` must have the same shape. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
        weight = np.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        try:
            weight = np.broadcast_to(weight, y_true.shape)
        except ValueError:
            raise ValueError(f"`sample_weight` must be broadcastable to the shape of `y_true`. Received: sample_weight.shape={np.shape(sample_weight)}, y_true.shape={y_true.shape}") from None
        weighted = y_true * weight
        for variable, value in (
            (self.sum, np.sum(weighted, axis=0)),
            (self.squared_sum, np.sum(y_true * weighted, axis=0)),
            (self.total_mse, np.sum((y_true - y_pred) ** 2 * weight, axis=0)),
            (self.count, np.sum(weight, axis=0)),
            (self.num_samples, y_true.size),
        ):
            variable.assign((np.asarray(variable.numpy(), np.float64) + value).astype(self.dtype))

    def result(self):
        values = (np.asarray(v.numpy()).astype(self.dtype) for v in (self.sum, self.squared_sum, self.total_mse, self.count))
        total_sum, squared_sum, residual, count = values
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total_sum / count
            total = squared_sum - total_sum * mean
            raw_scores = 1 - residual / total
            raw_scores = np.where(np.isinf(raw_scores), 0.0, raw_scores).astype(self.dtype)
            if self.class_aggregation == "uniform_average":
                score = np.mean(raw_scores)
            elif self.class_aggregation == "variance_weighted_average":
                score = np.sum(total * raw_scores) / np.sum(total)
            else:
                score = raw_scores
        n = float(np.asarray(self.num_samples.numpy()))
        p = self.num_regressors
        if p != 0:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                n, p = np.float32(n), np.float32(p)
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return ops.convert_to_tensor(np.asarray(score, self.dtype))

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors}
