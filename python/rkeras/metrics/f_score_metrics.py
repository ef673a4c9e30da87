"""FBetaScore and F1Score with Keras 3's arguments, variables and formulas: per-class (or, with
average="micro", pooled) weighted tp/fp/fn counts of thresholded predictions, combined as
(1 + β²)·P·R / (β²·P + R) with Keras's epsilons. Without a threshold the highest score of each
row counts as predicted. Counting runs in numpy on the host."""

import numpy as np

from rkeras import ops
from rkeras.metrics import Metric

_EPSILON = 1e-7  # backend.epsilon()


class FBetaScore(Metric):
    """F-beta of multi-class / multi-label predictions of shape (batch_size, num_classes);
    `average` None (per class), "micro", "macro" or "weighted" (by each class's true weight)."""

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, 'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python float. Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape=shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = np.asarray(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        try:
            shape = np.broadcast_shapes(y_true.shape, y_pred.shape)
        except ValueError:
            shape = None
        if shape is None or len(shape) != 2 or shape[-1] != y_pred.shape[-1]:
            raise ValueError(f"`y_true` and `y_pred` must have compatible shapes (batch_size, {y_pred.shape[-1]}). Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred >= np.max(y_pred, axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight).astype(self.dtype)
            sample_weight = sample_weight[:, None] if sample_weight.ndim == 1 else sample_weight
            try:
                sample_weight = np.broadcast_to(sample_weight, shape)
            except ValueError:
                raise ValueError(f"`sample_weight` must be broadcastable to {shape}. Received: sample_weight.shape={np.shape(sample_weight)}") from None

        def weighted_sum(values):
            if sample_weight is not None:
                values = values * sample_weight
            return np.sum(values, axis=self.axis, dtype=np.float64)

        for variable, values in (
            (self.true_positives, predicted * y_true),
            (self.false_positives, predicted * (1 - y_true)),
            (self.false_negatives, (1 - predicted) * y_true),
            (self.intermediate_weights, np.broadcast_to(y_true, shape)),
        ):
            variable.assign((np.asarray(variable.numpy(), np.float64) + weighted_sum(values)).astype(self.dtype))

    def result(self):
        tp, fp, fn, weights = (np.asarray(v.numpy()).astype(self.dtype) for v in (self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights))
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        beta2 = self.beta**2
        score = precision * recall / (beta2 * precision + recall + _EPSILON) * (1 + beta2)
        if self.average == "weighted":
            score = np.sum(score * (weights / (np.sum(weights) + _EPSILON)))
        elif self.average is not None:
            score = np.mean(score)
        return ops.convert_to_tensor(np.asarray(score, self.dtype))

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
