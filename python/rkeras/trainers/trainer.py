"""`compile`/`fit`/`evaluate`/`predict` and the `*_on_batch` methods, mixed into `Model`.

A train step is: forward (one Rust call per layer), loss (one fused call per output), backward
(one `tape.gradient` call running the whole reverse walk in Rust) and the optimizer update (one
call for all variables)."""

import warnings

import numpy as np

from rkeras import ops, tree
from rkeras._core import Tensor
from rkeras.tape import GradientTape
from rkeras.trainers import data_adapter
from rkeras.trainers.compile_utils import CompileLoss, CompileMetrics

__all__ = ["Trainer"]


def _to_float(value):
    return float(np.asarray(value))


def _log_value(value):
    """A float, or an array for metrics with vector results (per-threshold precision, per-class
    F1), as Keras's `_pythonify_logs` keeps them."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value


class Trainer:
    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._compile_config = None

    # ----- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        from rkeras import metrics as metrics_module
        from rkeras import optimizers

        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        output_names = self._output_names()
        self._compile_loss = CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._output_loss_trackers = None
        self.run_eagerly = run_eagerly
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self.compiled = True
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }

    def _output_names(self):
        outputs = getattr(self, "_outputs_struct", None)
        if outputs is None and getattr(self, "_functional", None) is not None:
            outputs = self._functional._outputs_struct
        if outputs is None:
            return ["output"]
        if isinstance(outputs, dict):
            return list(outputs)  # the dict's keys, in its order
        flat = tree.flatten(outputs)
        if len(flat) == 1:
            return [flat[0]._keras_history[0].name]
        return [t._keras_history[0].name for t in flat]

    def get_compile_config(self):
        if not self.compiled or self._compile_config is None:
            return {}  # as Keras: an uncompiled model's config has an empty compile_config
        from rkeras.saving.serialization_lib import serialize_keras_object

        return serialize_keras_object(self._compile_config)

    def compile_from_config(self, config):
        from rkeras.saving.serialization_lib import deserialize_keras_object

        config = deserialize_keras_object(config)
        self.compile(**config)

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using the model (called `{method}`).")

    # ----- metrics -------------------------------------------------------------------------------
    @property
    def metrics(self):
        out = []
        if self._loss_tracker is not None:
            out.append(self._loss_tracker)
        if self._compile_metrics is not None:
            out.extend(m for _, m, _ in self._compile_metrics.metrics)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()
        for m in self._output_loss_trackers or []:
            m.reset_state()

    def _logs(self):
        logs = {}
        if self._loss_tracker is not None:
            logs["loss"] = _to_float(self._loss_tracker.result())
        for tracker in self._output_loss_trackers or []:
            logs[tracker.name] = _to_float(tracker.result())
        if self._compile_metrics is not None:
            for name, value in self._compile_metrics.result().items():
                logs[name] = _log_value(value)
        return dict(sorted(logs.items()))

    def _metrics_result_or_logs(self, logs):
        """The metrics' results, unless the last step returned other entries (a custom
        `train_step`/`test_step`): then its logs, as Keras's `_get_metrics_result_or_logs`."""
        metric_logs = self._logs()
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return {k: _log_value(v) for k, v in (logs or {}).items()}

    def _flat_logs(self, logs):
        """Keras's order for the lists evaluate/train_on_batch/test_on_batch return: `loss`,
        a single-output model's metrics in compile order, the per-output losses, then every
        other entry by name (so a multi-output model's metrics come sorted, as in Keras)."""
        names = ["loss"]
        if self._compile_metrics is not None and len(self._output_names()) == 1:
            names.extend(m.name for _, m, _ in self._compile_metrics.metrics)
        names.extend(t.name for t in self._output_loss_trackers or [])
        ordered = [logs[n] for n in names if n in logs] + [logs[k] for k in sorted(logs) if k not in names]
        return ordered[0] if len(ordered) == 1 else ordered

    # ----- one step ------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Σ compiled losses + the model's own losses (regularizers, `add_loss`)."""
        total = None
        parts = []
        if self._compile_loss is not None:
            total, parts = self._compile_loss(y, y_pred, sample_weight)
        extra = self.losses
        if extra:
            reg = extra[0]
            for value in extra[1:]:
                reg = ops.add(reg, value)
            total = reg if total is None else ops.add(total, reg)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()` or add losses with `add_loss`.")
        self._last_output_losses = parts
        return total

    def _track_losses(self, loss, batch_size):
        self._loss_tracker.update_state(_to_float(loss), sample_weight=batch_size)
        parts = getattr(self, "_last_output_losses", None) or []
        # As Keras: `<output>_loss` is logged for each output with a loss when there are several.
        if sum(p is not None for p in parts) > 1:
            from rkeras import metrics as metrics_module

            if self._output_loss_trackers is None:
                self._output_loss_trackers = [
                    metrics_module.Mean(name=f"{name}_loss") for name, p in zip(self._output_names(), parts) if p is not None
                ]
            for tracker, value in zip(self._output_loss_trackers, [p for p in parts if p is not None]):
                tracker.update_state(_to_float(value), sample_weight=batch_size)

    def _align_targets(self, y):
        return self._compile_loss.align_targets(y) if self._compile_loss is not None else y

    def train_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y = self._align_targets(y)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        # Collected after the forward pass: layers of a subclassed model create their weights
        # on their first call. Cached for the epoch (reset by fit at each epoch start).
        variables = getattr(self, "_train_variables", None)
        if variables is None:
            variables = self._train_variables = list(self.trainable_variables)
        if variables:
            grads = tape.gradient(loss, variables)
            self.optimizer.apply(grads, variables)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        self._track_losses(loss, _batch_size(x))
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self._logs()

    def test_step(self, data):
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y = self._align_targets(y)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_losses(loss, _batch_size(x))
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self._logs()

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _ensure_built(self, x):
        if not self.built:
            self._maybe_build(_first_leaf(x))

    def _build_compile_state(self, batch):
        """Resolve the compiled losses and metrics from the first batch before any step runs
        (Keras's symbolic build), so `self.metrics` lists them inside a custom `train_step`."""
        if not self.built:
            self._ensure_built(batch[0])
        pending = [c for c in (self._compile_loss, self._compile_metrics) if c is not None and not c.built]
        if not pending:
            return
        x, y, _ = data_adapter.unpack_x_y_sample_weight(batch)
        if y is None:
            return
        y = self._align_targets(y)
        y_pred = getattr(self, "_outputs_struct", None)
        if y_pred is None and getattr(self, "_functional", None) is not None:
            y_pred = self._functional._outputs_struct
        if y_pred is None:
            y_pred = self(x, training=False)  # a subclassed model: its outputs' shapes from a call
        for compiled in pending:
            compiled.build(y, y_pred)

    # ----- fit -----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, **kwargs):
        from rkeras import callbacks as callbacks_module

        if "nb_epoch" in kwargs:
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments: {sorted(kwargs)}")
        self._assert_compiled("fit")
        if validation_split and validation_data is None:
            if not 0 < validation_split < 1:
                raise ValueError(f"`validation_split` must be a float between 0 and 1 (the fraction of the data kept for validation). Received: validation_split={validation_split}")
            if not _is_array_data(x):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy arrays.")
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split((x, y, sample_weight), validation_split)
        adapter = data_adapter.get_data_adapter(x, y, sample_weight, batch_size=batch_size, steps=steps_per_epoch, shuffle=shuffle, class_weight=class_weight)
        val_adapter = None
        if validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_x_y_sample_weight(validation_data) if isinstance(validation_data, (tuple, list)) else (validation_data, None, None)
            val_adapter = data_adapter.get_data_adapter(vx, vy, vsw, batch_size=validation_batch_size or batch_size, steps=validation_steps, shuffle=False)

        verbose = _resolve_verbose(verbose)
        cb = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=epochs, steps=adapter.num_batches)
        self.stop_training = False
        cb.on_train_begin()
        logs = {}
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cb.on_epoch_begin(epoch)
            self._train_variables = None
            stepped = False
            for step, batch in enumerate(adapter):
                if step == 0:
                    self._build_compile_state(batch)
                cb.on_train_batch_begin(step)
                logs = self.train_step(batch)
                stepped = True
                cb.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            adapter.on_epoch_end()
            if not stepped:
                if getattr(adapter, "exhausted", False):
                    break
                raise ValueError("Unexpected result of `train_function` (Empty logs). The training data is empty.")
            epoch_logs = dict(self._metrics_result_or_logs(logs))
            if val_adapter is not None and _should_validate(epoch, validation_freq):
                # As Keras's evaluate inside fit: the callbacks see the test hooks, and every
                # validation starts a fresh pass over the validation data.
                val_adapter.reset()
                cb.on_test_begin()
                val_logs = self._evaluate_adapter(val_adapter, callbacks=cb)
                cb.on_test_end(val_logs)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cb.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if epochs > initial_epoch:
            self.optimizer.finalize_variable_values(self.trainable_variables)
        cb.on_train_end(logs=training_logs)
        return self.history

    def _evaluate_adapter(self, adapter, callbacks=None):
        self.reset_metrics()
        ran = False
        logs = {}
        for step, batch in enumerate(adapter):
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            if step == 0:
                self._build_compile_state(batch)
            logs = self.test_step(batch)
            ran = True
            if callbacks is not None:
                callbacks.on_test_batch_end(step, logs)
        adapter.on_epoch_end()
        if not ran:
            raise ValueError("Expected some data for evaluation, but the dataset is empty.")
        return self._metrics_result_or_logs(logs)

    # ----- evaluate / predict --------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None, return_dict=False, **kwargs):
        from rkeras import callbacks as callbacks_module

        self._assert_compiled("evaluate")
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        adapter = data_adapter.get_data_adapter(x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=False)
        verbose = _resolve_verbose(verbose)
        cb = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=adapter.num_batches)
        cb.on_test_begin()
        logs = self._evaluate_adapter(adapter, callbacks=cb)
        cb.on_test_end(logs)
        if return_dict:
            return logs
        return self._flat_logs(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        from rkeras import callbacks as callbacks_module

        adapter = data_adapter.get_data_adapter(x, None, None, batch_size=batch_size, steps=steps, shuffle=False)
        verbose = _resolve_verbose(verbose)
        cb = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=adapter.num_batches)
        cb.on_predict_begin()
        outputs = []
        for step, batch in enumerate(adapter):
            cb.on_predict_batch_begin(step)
            if not self.built:
                self._ensure_built(batch[0])
            out = self.predict_step(batch)
            out = tree.map_structure(lambda t: np.asarray(t).copy() if not isinstance(t, np.ndarray) else t, out)
            outputs.append(out)
            cb.on_predict_batch_end(step, {"outputs": out})
        adapter.on_epoch_end()
        cb.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). The input data is empty.")
        return tree.map_structure(lambda *parts: np.concatenate(parts, axis=0), *outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same time.")
            sample_weight = data_adapter._class_weight_to_sample_weight(data_adapter._map_arrays(y, "y"), None, class_weight)
        data = data_adapter.pack_x_y_sample_weight(x, y, sample_weight)
        self._build_compile_state(data)
        self._train_variables = None
        self.reset_metrics()  # as Keras: the results are this batch's alone
        logs = self._metrics_result_or_logs(self.train_step(data))
        return logs if return_dict else self._flat_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        data = data_adapter.pack_x_y_sample_weight(x, y, sample_weight)
        self._build_compile_state(data)
        self.reset_metrics()
        logs = self._metrics_result_or_logs(self.test_step(data))
        return logs if return_dict else self._flat_logs(logs)

    def predict_on_batch(self, x):
        out = self(x, training=False)
        if isinstance(out, Tensor):
            return np.asarray(out)
        return tree.map_structure(lambda t: np.asarray(t), out)

    # Keras 2 spellings.
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None, validation_data=None, validation_steps=None, validation_freq=1, class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        # Keras 2 used `shuffle` only for a Sequence.
        shuffle = shuffle and data_adapter._is_pydataset(generator)
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose, callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps, validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0):
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, verbose=0):
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return verbose


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _is_array_data(x):
    leaves = tree.flatten(x)
    return bool(leaves) and all(isinstance(v, np.ndarray) or hasattr(v, "shape") and hasattr(v, "__array__") for v in leaves)


def _first_leaf(x):
    leaves = tree.flatten(x)
    return leaves[0] if len(leaves) == 1 else x


def _batch_size(x):
    leaves = tree.flatten(x)
    return int(np.shape(leaves[0])[0]) if leaves else 0
