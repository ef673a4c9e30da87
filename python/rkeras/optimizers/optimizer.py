"""`Optimizer`: the machinery every optimizer shares (Keras 3's `BaseOptimizer`).

`apply(grads, variables)` runs Keras's pipeline: drop missing gradients, unscale, accumulate,
clip, then one fused Rust call that applies decoupled weight decay and the update rule to every
variable in place, then the moving average, the constraints and `iterations += 1`.
Subclasses name their rule (`_rule`), create their slot variables in `_build_slots` and pass
their hyperparameters in `_rule_args`.
"""

import warnings

import numpy as np

from rkeras import _core, ops
from rkeras.utils.naming import auto_name, to_snake_case
from rkeras.variables import Variable


class Optimizer:
    _rule = None  # name of the fused update rule in Rust ("sgd", "adam", "lamb", ...)

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.", DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        # Keras 2's time-based decay: lr / (1 + decay · iterations).
        self.decay = float(kwargs.pop("decay", None) or 0.0)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if gradient_accumulation_steps is not None and (not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2):
            raise ValueError(f"`gradient_accumulation_steps` must be an integer >= 2. Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema and not 0.0 <= ema_momentum <= 1.0:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
        if use_ema and ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
            raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        if self.decay < 0:
            raise ValueError(f"`decay` cannot be negative. Received: decay={self.decay}")
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._slots = []  # per trainable variable: its slot variables, in the Rust rule's order
        self._trainable_variables = []
        self._index = {}  # id(variable) -> position in _trainable_variables
        self._exclude_ids = set()
        self._exclude_names = ()
        self._iterations = self._track(Variable(np.zeros((), np.int64), name="iteration", trainable=False))
        self._set_learning_rate(learning_rate)

    # ----- variables -----------------------------------------------------------------------------
    def _track(self, variable):
        variable.path = f"{self.name}/{variable.name}"  # `adam/iteration`, as Keras
        self._variables.append(variable)
        return variable

    def _set_learning_rate(self, learning_rate):
        from rkeras.optimizers.schedules import LearningRateSchedule

        if isinstance(learning_rate, LearningRateSchedule) or (callable(learning_rate) and not isinstance(learning_rate, (int, float, Variable))):
            self._learning_rate = learning_rate
            return
        try:
            value = float(learning_rate)
        except (TypeError, ValueError):
            raise ValueError(f"`learning_rate` must be a float, a schedule or a callable. Received: learning_rate={learning_rate!r}") from None
        if value < 0:
            raise ValueError(f"`learning_rate` cannot be negative. Received: learning_rate={value}")
        self._learning_rate = self._track(Variable(np.asarray(value, np.float32), name="learning_rate", trainable=False))

    @property
    def variables(self):
        return list(self._variables)

    @property
    def iterations(self):
        return self._iterations

    @property
    def learning_rate(self):
        """The current learning rate (a schedule is evaluated at `iterations`)."""
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        return self._learning_rate(int(self._iterations.numpy()))

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, Variable) and not callable(value):
            self._learning_rate.assign(np.asarray(float(value), np.float32))
        else:
            raise TypeError("This optimizer was created with a learning rate schedule; it cannot be set to a new value.")

    # Keras 2 spelling.
    lr = learning_rate

    def _current_learning_rate(self, iterations):
        if isinstance(self._learning_rate, Variable):
            lr = float(self._learning_rate.numpy())
        else:
            lr = float(np.asarray(self._learning_rate(iterations)))
        if self.decay:
            lr = lr / (1.0 + self.decay * iterations)
        return lr

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A non-trainable optimizer variable of `shape` (float32 unless `dtype` says otherwise)."""
        from rkeras import initializers

        shape = tuple(int(d) for d in shape)
        return self._track(Variable(initializers.get(initializer), shape=shape, dtype=str(dtype or "float32"), trainable=False, name=name or "variable"))

    def add_variable_from_reference(self, reference_variable, name):
        """A zero variable shaped like `reference_variable`, named `<its path>_<name>`."""
        path = getattr(reference_variable, "path", None) or reference_variable.name
        return self._track(Variable(np.zeros(reference_variable.shape, str(reference_variable.dtype)), name=f"{path.replace('/', '_')}_{name}", trainable=False))

    def add_optimizer_variables(self, var_list, names):
        """For each variable, one slot per name (interleaved per variable, as Keras 3 orders
        them). Returns one list per name, or a single list for a single name."""
        single = isinstance(names, str)
        names = [names] if single else list(names)
        out = [[] for _ in names]
        for v in var_list:
            for i, n in enumerate(names):
                out[i].append(self.add_variable_from_reference(v, n))
        return out[0] if single else out

    def build(self, var_list):
        """Create the slot variables of `var_list` (called on the first `apply`)."""
        var_list = list(var_list)
        self._trainable_variables = var_list
        self._index = {id(v): i for i, v in enumerate(var_list)}
        # Zeros, as in Keras: the first step's momentum is 0, so the average starts at the
        # variables' value after that step.
        self._ema = self.add_optimizer_variables(var_list, "average") if self.use_ema else []
        self._accumulated = self.add_optimizer_variables(var_list, "gradient_accumulator") if self.gradient_accumulation_steps else []
        self._slots = self._build_slots(var_list)
        self.built = True

    def _build_slots(self, var_list):
        """Per variable, the slot variables of the update rule, in the rule's order."""
        return [[] for _ in var_list]

    def _rule_args(self):
        return {}

    def _before_update(self, iterations):
        """Per-step optimizer state the rule needs (Nadam's momentum-schedule product)."""

    # ----- update --------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self._iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update `trainable_variables` (default: those the optimizer was built with) from `grads`."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built on a list of variables. Call `optimizer.build(trainable_variables)` first.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"Expected one gradient per variable: received {len(grads)} gradients for {len(trainable_variables)} variables.")
        if not self.built:
            self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if len(pairs) < len(grads):
            missing = [v.name for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using `model.compile()`, did you forget to provide a `loss` argument?", stacklevel=2)
        if not pairs:
            return
        unknown = [v.name for _, v in pairs if id(v) not in self._index]
        if unknown:
            raise KeyError(f"The optimizer cannot recognize variable(s) {unknown}. This usually means you are trying to call the optimizer to update different parts of the model separately. Please call `optimizer.build(variables)` with the full list of trainable variables before the training loop.")
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        if self.loss_scale_factor is not None:
            grads = [ops.divide(g, self.loss_scale_factor) for g in grads]
        iterations = int(self._iterations.numpy())
        if self.gradient_accumulation_steps:
            grads = self._accumulate(grads, variables, iterations)
        if grads is not None:
            grads = self._clip(grads)
            lr = self._current_learning_rate(iterations)
            slots = [self._slots[self._index[id(v)]] for v in variables]
            self._before_update(iterations)
            _core._optimizer_apply(self._rule, variables, grads, slots, lr, iterations, self._weight_decays(variables), **self._rule_args())
        if self.use_ema:
            self._update_ema(iterations)
        for v in variables:
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                v.assign(constraint(v))
        self._iterations.assign_add(1)

    def _accumulate(self, grads, variables, iterations):
        """Keras's gradient accumulation: sum gradients; every n-th step apply their mean."""
        n = self.gradient_accumulation_steps
        accumulators = [self._accumulated[self._index[id(v)]] for v in variables]
        if (iterations + 1) % n != 0:
            for acc, g in zip(accumulators, grads):
                acc.assign_add(g)
            return None
        out = [ops.divide(ops.add(acc.value, g), float(n)) for acc, g in zip(accumulators, grads)]
        for acc in accumulators:
            acc.assign(np.zeros(acc.shape, str(acc.dtype)))
        return out

    def _clip(self, grads):
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = float(np.sqrt(float(ops.sum(ops.square(g)))))
                out.append(ops.multiply(g, self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(sum(float(ops.sum(ops.square(g))) for g in grads)))
            return [ops.multiply(g, self.global_clipnorm / norm) for g in grads] if norm > self.global_clipnorm else grads
        if self.clipvalue is not None:
            return [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _weight_decays(self, variables):
        if not self.weight_decay:
            return None
        return [0.0 if id(v) in self._exclude_ids or any(n in v.name for n in self._exclude_names) else float(self.weight_decay) for v in variables]

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Variables (or variables whose name contains one of `var_names`) not to decay."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_names = tuple(var_names or ())

    def _update_ema(self, iterations):
        """Keras's moving average of every variable the optimizer was built with (also on steps
        that only accumulate gradients); every `ema_overwrite_frequency` steps the variables
        take it."""
        m = self.ema_momentum if iterations else 0.0
        for v, avg in zip(self._trainable_variables, self._ema):
            avg.assign(ops.add(ops.multiply(avg.value, m), ops.multiply(v.value, 1.0 - m)))
        freq = self.ema_overwrite_frequency
        if freq and (iterations + 1) % freq == 0:
            self._overwrite_with_ema(self._trainable_variables)

    def _overwrite_with_ema(self, variables):
        for v in variables:
            i = self._index.get(id(v))
            if i is not None:
                v.assign(self._ema[i])

    def finalize_variable_values(self, var_list):
        """End of training: with `use_ema`, the variables take their moving averages."""
        if self.use_ema and self.built:
            self._overwrite_with_ema(var_list)

    def scale_loss(self, loss):
        return ops.multiply(loss, self.loss_scale_factor) if self.loss_scale_factor is not None else loss

    # ----- state ---------------------------------------------------------------------------------
    def set_weights(self, weights):
        if len(weights) != len(self._variables):
            raise ValueError(f"Optimizer variable count mismatch: the optimizer has {len(self._variables)} variables, received {len(weights)} values.")
        for v, w in zip(self._variables, weights):
            v.assign(np.asarray(w))

    def save_own_variables(self, store):
        for i, v in enumerate(self._variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self._variables):
            raise ValueError(f"Skipping variable loading for optimizer '{self.name}', because it has {len(self._variables)} variables whereas the saved optimizer has {len(store.keys())} variables.")
        for i, v in enumerate(self._variables):
            v.assign(np.asarray(store[str(i)]))

    def get_config(self):
        from rkeras.saving.serialization_lib import serialize_keras_object

        if isinstance(self._learning_rate, Variable):
            learning_rate = float(self._learning_rate.numpy())
        else:
            learning_rate = serialize_keras_object(self._learning_rate)
        config = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from rkeras.saving.serialization_lib import deserialize_keras_object

            config["learning_rate"] = deserialize_keras_object(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
