"""What `compile(loss=..., metrics=...)` was given, resolved against the model's outputs: one loss
(with its weight) and a list of metrics per output, as Keras's `CompileLoss`/`CompileMetrics`."""

import numpy as np

from rkeras import losses as losses_module
from rkeras import metrics as metrics_module
from rkeras import ops, tree

__all__ = ["CompileLoss", "CompileMetrics"]


def _per_output(spec, output_names, what):
    """Spread a compile argument over the outputs: a single value applies to every output; a
    list gives one per output (in order); a dict is keyed by output name."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model output. "
                f"Received: {what}={spec}; the model's output names are {output_names}."
            )
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and n > 1:
        if len(spec) != n:
            raise ValueError(
                f"For a model with multiple outputs, when providing the `{what}` argument as a list, it should have as "
                f"many entries as the model has outputs. Received:\n{what}={spec}\nof length {len(spec)} whereas the "
                f"model has {n} outputs."
            )
        return list(spec)
    return [spec] * n


def _is_sparse_or_binary(y_true, y_pred):
    """Keras's rule for "accuracy"/"crossentropy": binary if the prediction has one unit,
    sparse if the labels have lower rank or a trailing 1 where predictions have classes."""
    t_shape, p_shape = tuple(np.shape(y_true)), tuple(y_pred.shape)
    is_binary = len(p_shape) > 0 and p_shape[-1] == 1
    is_sparse = len(t_shape) < len(p_shape) or (len(t_shape) == len(p_shape) and t_shape and t_shape[-1] == 1 and p_shape[-1] > 1)
    return is_binary, is_sparse


class CompileLoss:
    """Total training loss: Σ over outputs of loss_weight · loss(y_true, y_pred, sample_weight)."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.spec = loss
        self.loss_weights_spec = loss_weights
        self.output_names = list(output_names or ["output"])
        self.built = False
        if loss is not None and not isinstance(loss, (dict, list, tuple)):
            # Fail early on unknown names, as Keras's compile does.
            self._resolve(loss, None, None)
        elif isinstance(loss, (dict, list, tuple)):
            for item in tree.flatten(loss) if isinstance(loss, (list, tuple)) else loss.values():
                if item is not None:
                    self._resolve(item, None, None)

    def _resolve(self, identifier, y_true, y_pred):
        if identifier is None:
            return None
        if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
            if y_pred is None:
                return identifier
            is_binary, is_sparse = _is_sparse_or_binary(y_true, y_pred)
            identifier = "binary_crossentropy" if is_binary else "sparse_categorical_crossentropy" if is_sparse else "categorical_crossentropy"
        loss = losses_module.get(identifier)
        if loss is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier}")
        if not isinstance(loss, losses_module.Loss):
            name = getattr(loss, "__name__", "loss")
            loss = losses_module.LossFunctionWrapper(loss, name=name)
        return loss

    def align_targets(self, y_true):
        """A list of targets for only the outputs that have a loss (Keras accepts that) gets
        None at the other outputs' places."""
        n = len(self.output_names)
        if n > 1 and isinstance(y_true, (list, tuple)) and len(y_true) != n:
            specs = _per_output(self.spec, self.output_names, "loss")
            with_loss = [i for i, spec in enumerate(specs) if spec is not None]
            if len(with_loss) == len(y_true):
                full = [None] * n
                for i, t in zip(with_loss, y_true):
                    full[i] = t
                return full
        return y_true

    def build(self, y_true, y_pred):
        flat_pred = _flatten_predictions(y_pred, self.output_names)
        specs = _per_output(self.spec, self.output_names, "loss")
        flat_true = _flatten_targets(y_true, self.output_names)
        self.losses = [self._resolve(s, t, p) for s, t, p in zip(specs, flat_true, flat_pred)]
        if all(loss is None for loss in self.losses):
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        weights = self.loss_weights_spec
        if weights is None:
            self.weights = [1.0] * len(self.losses)
        else:
            w = _per_output(weights, self.output_names, "loss_weights")
            self.weights = [1.0 if v is None else float(v) for v in w]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        """(total, [per-output losses]) as Tensors."""
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = _flatten_predictions(y_pred, self.output_names)
        flat_true = _flatten_targets(y_true, self.output_names)
        flat_sw = _flatten_sample_weights(sample_weight, self.output_names)
        total = None
        parts = []
        for loss, weight, t, p, sw in zip(self.losses, self.weights, flat_true, flat_pred, flat_sw):
            if loss is None:
                parts.append(None)
                continue
            if t is None:
                raise ValueError("Found `y=None` for an output with a loss: pass targets for every output that has a loss.")
            value = loss(t, p, sample_weight=sw)
            parts.append(value)
            term = value if weight == 1.0 else ops.multiply(value, weight)
            total = term if total is None else ops.add(total, term)
        return total, parts


class CompileMetrics:
    """The compiled metrics of each output; "accuracy"/"acc" resolve to binary, sparse or
    categorical accuracy from the shapes, and keep the user's string as their name."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None):
        self.spec = metrics
        self.weighted_spec = weighted_metrics
        self.output_names = list(output_names or ["output"])
        self.built = False
        self.metrics = []  # (output index, metric, weighted)
        for spec in (metrics, weighted_metrics):
            for item in _iter_metric_specs(spec):
                if isinstance(item, str) and item.lower() in ("accuracy", "acc", "crossentropy", "ce"):
                    continue
                if metrics_module.get(item) is None:
                    raise ValueError(f"Could not interpret metric identifier: {item!r}")

    def build(self, y_true, y_pred):
        flat_pred = _flatten_predictions(y_pred, self.output_names)
        flat_true = _flatten_targets(y_true, self.output_names)
        multi = len(self.output_names) > 1
        self.metrics = []
        for spec, weighted in ((self.spec, False), (self.weighted_spec, True)):
            if spec is None:
                continue
            per_output = self._spread(spec)
            for i, items in enumerate(per_output):
                for item in items or []:
                    metric = self._resolve(item, flat_true[i], flat_pred[i])
                    if multi:
                        metric.name = f"{self.output_names[i]}_{metric.name}"
                    if weighted and self.spec is not None and any(m.name == metric.name for _, m, _ in self.metrics):
                        metric.name = "weighted_" + metric.name
                    self.metrics.append((i, metric, weighted))
        self.built = True

    def _spread(self, spec):
        names = self.output_names
        if isinstance(spec, dict):
            per = _per_output(spec, names, "metrics")
            return [[v] if not isinstance(v, (list, tuple)) and v is not None else v for v in per]
        if isinstance(spec, (list, tuple)):
            if len(names) > 1 and len(spec) == len(names) and all(isinstance(s, (list, tuple)) or s is None for s in spec):
                return [list(s or []) for s in spec]
            return [list(spec) for _ in names]
        return [[spec] for _ in names]

    def _resolve(self, item, y_true, y_pred):
        if isinstance(item, str) and item.lower() in ("accuracy", "acc"):
            is_binary, is_sparse = _is_sparse_or_binary(y_true, y_pred)
            cls = metrics_module.BinaryAccuracy if is_binary else metrics_module.SparseCategoricalAccuracy if is_sparse else metrics_module.CategoricalAccuracy
            return cls(name=item)
        if isinstance(item, str) and item.lower() in ("crossentropy", "ce"):
            is_binary, is_sparse = _is_sparse_or_binary(y_true, y_pred)
            cls = metrics_module.BinaryCrossentropy if is_binary else metrics_module.SparseCategoricalCrossentropy if is_sparse else metrics_module.CategoricalCrossentropy
            return cls(name=item)
        metric = metrics_module.get(item)
        if metric is None:
            raise ValueError(f"Could not interpret metric identifier: {item!r}")
        if not isinstance(metric, metrics_module.Metric):
            name = item if isinstance(item, str) else getattr(metric, "__name__", "metric")
            metric = metrics_module.MeanMetricWrapper(metric, name=name)
        elif isinstance(item, str):
            metric.name = item
        return metric

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = _flatten_predictions(y_pred, self.output_names)
        flat_true = _flatten_targets(y_true, self.output_names)
        flat_sw = _flatten_sample_weights(sample_weight, self.output_names)
        for i, metric, weighted in self.metrics:
            if flat_true[i] is not None:
                metric.update_state(flat_true[i], flat_pred[i], sample_weight=flat_sw[i] if weighted else None)

    def reset_state(self):
        for _, metric, _ in self.metrics:
            metric.reset_state()

    def result(self):
        return {metric.name: metric.result() for _, metric, _ in self.metrics}


def _iter_metric_specs(spec):
    if spec is None:
        return []
    if isinstance(spec, dict):
        out = []
        for v in spec.values():
            out.extend(_iter_metric_specs(v))
        return out
    if isinstance(spec, (list, tuple)):
        out = []
        for v in spec:
            out.extend(_iter_metric_specs(v))
        return out
    return [spec]


def _flatten_predictions(y_pred, output_names):
    """Predictions in output order (a dict by key, not in `tree.flatten`'s sorted order)."""
    if isinstance(y_pred, dict) and all(name in y_pred for name in output_names):
        return [y_pred[name] for name in output_names]
    return tree.flatten(y_pred)


def _flatten_targets(y_true, output_names):
    if isinstance(y_true, dict):
        return [y_true.get(name) for name in output_names]
    if len(output_names) == 1:
        if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
            return [y_true[0]]
        return [y_true]
    if isinstance(y_true, (list, tuple)):
        if len(y_true) != len(output_names):
            raise ValueError(f"The model has {len(output_names)} outputs, but {len(y_true)} target arrays were given.")
        return list(y_true)
    raise ValueError(f"The model has {len(output_names)} outputs ({output_names}); pass `y` as a list or a dict keyed by output name.")


def _flatten_sample_weights(sample_weight, output_names):
    if sample_weight is None:
        return [None] * len(output_names)
    if isinstance(sample_weight, dict):
        return [sample_weight.get(name) for name in output_names]
    if isinstance(sample_weight, (list, tuple)) and len(output_names) > 1:
        return list(sample_weight)
    return [sample_weight] * len(output_names)
