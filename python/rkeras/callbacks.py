"""Callbacks: hooks `fit`/`evaluate`/`predict` call at the start and end of training, epochs and
batches. `History` and `ProgbarLogger` are added by the trainer; `EarlyStopping` and
`LambdaCallback` are for users, as in Keras 3."""

import warnings

import numpy as np

from rkeras.utils.progbar import Progbar


class Callback:
    """Base class. `self.model` is the model being trained; `self.params` holds `verbose`,
    `epochs` and `steps`."""

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    # Keras 2 names for the training-batch hooks.
    def on_batch_begin(self, batch, logs=None):
        """Called at the start of a training batch (legacy name)."""

    def on_batch_end(self, batch, logs=None):
        """Called at the end of a training batch (legacy name)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with its logs (including `val_*` entries)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the start of an evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of an evaluation batch."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the start of a prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a prediction batch (`logs["outputs"]` holds its outputs)."""

    def on_train_begin(self, logs=None):
        """Called at the start of `fit`."""

    def on_train_end(self, logs=None):
        """Called at the end of `fit` with the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and of validation inside `fit`)."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` with its logs."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""


_HOOKS = [
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin",
    "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
]


class CallbackList(Callback):
    """Calls each hook on every callback in order; adds `History` and `ProgbarLogger` on request."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        if callbacks is not None and not isinstance(callbacks, (list, tuple, CallbackList)):
            raise TypeError(f"`callbacks` must be a list of `Callback` instances. Received: callbacks={callbacks!r}")
        self.callbacks = list(callbacks.callbacks if isinstance(callbacks, CallbackList) else callbacks or [])
        for cb in self.callbacks:
            if not hasattr(cb, "set_model"):
                raise TypeError(f"Every callback must be a `rkeras.callbacks.Callback` instance. Received: {cb!r}")
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)


def _dispatch(name):
    """Calls `name` on every callback as Keras does: `(batch, logs=logs)` for batch hooks,
    `(epoch, logs)` for epoch hooks, `(logs)` for the begin/end hooks, with `{}` for no logs
    (so `LambdaCallback(on_train_begin=lambda logs: ...)` works)."""
    if "batch" in name:

        def hook(self, batch, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(batch, logs=logs)

    elif "epoch" in name:

        def hook(self, epoch, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(epoch, logs)

    else:

        def hook(self, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(logs)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _dispatch(_name))
del _name


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints Keras's progress bar: per batch with verbose=1, per epoch with verbose=2."""

    def __init__(self, count_mode=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs=None):
        self._finalize(None)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        # Created when the epoch starts, so the elapsed time includes the first step; the logs
        # are running means already, so they are shown as given (stateless_metrics=set()).
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step", stateless_metrics=set())

    def _update(self, batch, logs):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


def _monitor_direction(model, monitor):
    """"min" or "max" for `monitor` as Keras's auto mode decides: losses are minimized; a
    compiled metric of that name follows its `_direction`; anything else is an error."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    compiled = getattr(model, "_compile_metrics", None)
    for _, metric, _ in getattr(compiled, "metrics", None) or []:
        if metric.name == name and getattr(metric, "_direction", None) is not None:
            return "max" if metric._direction == "up" else "min"
    for tracker in getattr(model, "_output_loss_trackers", None) or []:
        if tracker.name == name:
            return "min"
    return None


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved by more than `min_delta` for `patience`
    epochs; optionally restore the weights of the best epoch."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        self._better = None  # set at the first epoch end, once the model's metrics exist (as Keras)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self._better(value - self.min_delta, reference))

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value

    def _set_monitor_op(self):
        direction = self.mode if self.mode != "auto" else _monitor_direction(self.model, self.monitor)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but Keras isn't able to automatically "
                "determine whether that metric should be maximized or minimized. Pass `mode='max'` in order to monitor "
                "based on the highest metric value, or pass `mode='min'` in order to use the lowest value."
            )
        self._better = np.greater if direction == "max" else np.less
        if direction == "min":
            self.min_delta *= -1

    def on_epoch_end(self, epoch, logs=None):
        if self._better is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The count restarts only when both the baseline and the previous best are beaten.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.
    Batch hooks take `(batch, logs)`, epoch hooks `(epoch, logs)`, begin/end hooks `(logs)`."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        given = dict(kwargs)
        given.update({
            "on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
            "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin, "on_train_batch_end": on_train_batch_end,
        })
        unknown = [k for k in given if k not in _HOOKS]
        if unknown:
            raise ValueError(f"Unrecognized hook(s) for LambdaCallback: {unknown}. Valid hooks: {_HOOKS}")
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)


def _learning_rate(model):
    return float(np.asarray(model.optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch to `schedule(epoch, lr)`
    (or `schedule(epoch)`), and logs it as `learning_rate`."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, _learning_rate(self.model))
        except TypeError:  # a schedule of the epoch alone
            learning_rate = self.schedule(epoch)
        try:
            learning_rate = float(learning_rate)
        except (TypeError, ValueError):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}") from None
        self.model.optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved by more than
    `min_delta` for `patience` epochs, then waits `cooldown` epochs; never below `min_lr`.
    Logs the rate as `learning_rate`."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {mode} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        self._reset()

    def _reset(self):
        maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self._improved = (lambda a, b: a > b + self.min_delta) if maximize else (lambda a, b: a < b - self.min_delta)
        self.best = -np.inf if maximize else np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _learning_rate(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. Available metrics are: {','.join(logs.keys())}.", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _learning_rate(self.model)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler", "ReduceLROnPlateau"]
