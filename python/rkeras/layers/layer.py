"""`Layer`: Keras 3's base class — weights, building, calling (eager and symbolic), training flag,
masking, losses, and config."""

import contextlib
import functools
import inspect
import threading
import warnings
import weakref

import numpy as np

from rkeras import _core, ops, tree
from rkeras.dtype_policies import DTypePolicy, dtype_policy
from rkeras.symbolic import KerasTensor, Node, any_symbolic
from rkeras.utils.naming import auto_name, to_snake_case

__all__ = ["Layer", "InputSpec"]

_context = threading.local()


@contextlib.contextmanager
def name_scope(name, caller=None):
    """Weights created inside get paths under `name/`, as Keras's name scopes: a layer's first
    call (and a Sequential's build) opens its own, so the weights its sublayers create are
    `model/dense/kernel`; a wrapper building its inner layers opens one so Bidirectional's
    LSTMs get `bidirectional/forward_lstm/lstm_cell/kernel`. A scope opened by `caller` is not
    opened again inside itself."""
    scopes = getattr(_context, "scopes", None)
    if scopes is None:
        scopes = _context.scopes = []
    if caller is not None and scopes and scopes[-1][1] is caller:
        yield
        return
    scopes.append((name, caller))
    try:
        yield
    finally:
        scopes.pop()


def _weight_path(layer, name):
    scopes = getattr(_context, "scopes", None) or []
    names = [n for n, _ in scopes]
    if not scopes or scopes[-1][1] is not layer:
        names.append(layer.name)
    return "/".join(names + [name])


def _call_context():
    ctx = getattr(_context, "stack", None)
    if ctx is None:
        ctx = _context.stack = []
    return ctx



# Layers whose `_losses` is not empty (so an outermost call knows whether to clear anything).
_LAYERS_WITH_LOSSES = weakref.WeakSet()
# Weights created with a regularizer: while there are none (and no layer holds losses), `losses`
# is empty without walking the layer tree, which costs more than a small model's train step.
_REGULARIZED_WEIGHTS = weakref.WeakSet()


def current_training():
    """The `training` value of the enclosing layer call (None outside any call)."""
    stack = _call_context()
    return stack[-1] if stack else None


class InputSpec:
    """What a layer accepts: `ndim`/`min_ndim`/`max_ndim`, `axes` ({axis: size}), `shape`, `dtype`."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in self.get_config().items() if v]
        return f"InputSpec({', '.join(parts)})"


def _check_input_spec(specs, inputs, layer_name):
    """Keras's `assert_input_compatibility`, with its messages."""
    if specs is None:
        return
    flat = tree.flatten(inputs)
    specs = tree.flatten(specs)
    if len(specs) > 1 and len(flat) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(flat)} input tensors. '
            f"Inputs received: {[getattr(x, 'shape', x) for x in flat]}"
        )
    for i, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None or x is None:
            continue
        shape = tuple(x.shape)
        ndim = len(shape)
        where = f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible with the layer"
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{where}: expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{where}: expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}")
        if spec.dtype is not None and str(x.dtype) != spec.dtype:
            raise ValueError(f"{where}: expected dtype={spec.dtype}, found dtype={x.dtype}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            try:
                got = shape[axis]
            except IndexError:
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value {value}, but received input with shape {shape}") from None
            if got is not None and got != value:
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value {value}, but received input with shape {shape}")
        if spec.shape is not None:
            want, got = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                # A trailing axis of size 1 on either side is ignored (Functional inputs).
                got = got[:-1] if got and got[-1] == 1 else got
                want = want[:-1] if want and want[-1] == 1 else want
            for w, g in zip(want, got):
                if w is not None and g is not None and w != g:
                    raise ValueError(f"{where}: expected shape={spec.shape}, found shape={shape}")


def _to_tensor(x, dtype, layer_name=None):
    """Eager layer inputs: numpy/Python values become Tensors; floating inputs are cast to the
    layer's compute dtype (Keras's autocast), integer and bool inputs keep their dtype."""
    if x is None:
        return None
    if isinstance(x, _core.Variable):
        t = x.value
    elif isinstance(x, _core.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            where = f"layer '{layer_name}'" if layer_name else "a layer"
            raise TypeError(f"Inputs to {where} must be numeric arrays or Tensors; received an array of dtype {arr.dtype}.")
        if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
            arr = arr.astype(dtype)
        t = ops.convert_to_tensor(arr)
    if dtype is not None and t.dtype != dtype and t.dtype in ("float32", "float64"):
        t = ops.cast(t, dtype)
    return t


_RESERVED = frozenset(
    [
        "_inbound_nodes",
        "_trainable_variables",
        "_non_trainable_variables",
        "_losses",
        "_layers_cache",
        "_call_signature",
        "_build_shapes",
        "_dtype_policy",
        "_parent_path",
        "_train_variables",
    ]
)


class Layer:
    """Base layer: subclass it, create weights in `build(input_shape)` with `add_weight`, compute
    in `call(inputs, training=None, mask=None)`; weights and sublayers assigned as attributes (also
    inside lists and dicts) are tracked."""

    supports_masking = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None:
            # As Keras: whoever calls build (a wrapper building its inner layer, too), the shape
            # is remembered for get_build_config.
            @functools.wraps(build)
            def recording_build(self, *args, **kw):
                result = build(self, *args, **kw)
                shape = args[0] if args else kw.get("input_shape")
                if getattr(self, "_build_shapes", None) is None and shape is not None:
                    self._build_shapes = shape
                return result

            cls.build = recording_build

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        object.__setattr__(obj, "_auto_config", _auto_config(cls, args, kwargs))
        # Set before any subclass __init__ code runs, so attribute tracking works at once.
        object.__setattr__(obj, "_trainable_variables", [])
        object.__setattr__(obj, "_non_trainable_variables", [])
        object.__setattr__(obj, "_inbound_nodes", [])
        object.__setattr__(obj, "_losses", [])
        object.__setattr__(obj, "built", False)
        object.__setattr__(obj, "_trainable", True)
        object.__setattr__(obj, "_called", False)
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None, **kwargs):
        legacy = {}
        for key in ("input_shape", "input_dim", "batch_input_shape", "batch_size", "batch_shape"):
            if key in kwargs:
                legacy[key] = kwargs.pop(key)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Argument `name` must be a string, received {name!r} for layer {type(self).__name__}.")
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype_policy = dtype_policy(dtype)
        self.autocast = autocast
        self._input_spec = None
        self._build_shapes = None
        from rkeras import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._batch_input_shape = _legacy_batch_shape(legacy)
        if not _overrides(self, "build") and _stateless_builtin(type(self)):
            self.built = True

    # ----- dtype ---------------------------------------------------------------------------------
    @property
    def dtype_policy(self):
        return self._dtype_policy

    @property
    def dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self):
        return self.compute_dtype

    # ----- tracking ------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        # Variables assigned as attributes, also inside lists/tuples/dicts, are this layer's own.
        if name not in _RESERVED and isinstance(value, (_core.Variable, list, tuple, dict)):
            owned = self._trainable_variables + self._non_trainable_variables
            for v in _variables_in(value):
                if not any(v is o for o in owned):
                    (self._trainable_variables if v.trainable else self._non_trainable_variables).append(v)
                    owned.append(v)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        value = getattr(self, name, None)
        if isinstance(value, _core.Variable):
            self._trainable_variables[:] = [v for v in self._trainable_variables if v is not value]
            self._non_trainable_variables[:] = [v for v in self._non_trainable_variables if v is not value]
        object.__delattr__(self, name)

    @property
    def _layers(self):
        """Direct sublayers, in attribute order (attributes holding layers, or lists/tuples/dicts of them)."""
        found = []
        seen = set()
        for key, value in self.__dict__.items():
            if key in _RESERVED or key == "_tracked_layers_skip":
                continue
            for item in _layers_in(value):
                if id(item) not in seen and item is not self:
                    seen.add(id(item))
                    found.append(item)
        return found

    def _flatten_layers(self, include_self=True, recursive=True):
        out = [self] if include_self else []
        seen = {id(self)}
        stack = list(self._layers)
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if recursive:
                stack = layer._layers + stack
        return out

    # ----- weights -------------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True, autocast=True, regularizer=None, constraint=None, aggregation="none", overwrite_with_gradient=False, name=None):
        if args and isinstance(args[0], str):
            raise ValueError(
                f"In layer {self.name!r}: the first positional argument of add_weight() is `shape`, not a name "
                f"(received {args[0]!r}). Pass the name as `name=`."
            )
        if args:
            shape = args[0]
        if len(args) > 1:
            initializer = args[1]
        if len(args) > 2:
            dtype = args[2]
        from rkeras import constraints, initializers, regularizers
        from rkeras.variables import Variable

        shape = () if shape is None else tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"In layer {self.name!r}: weight {name!r} has a negative dimension in shape {shape}.")
        dtype = _dtype_name(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.startswith("float") else "zeros"
        init = initializers.get(initializer)
        # A weight created in a frozen layer is not trained until the layer is unfrozen (it is
        # kept with the trainable ones, which the `trainable` setter flips).
        variable = Variable(init, shape=shape, dtype=dtype, trainable=trainable and self._trainable, name=name or "variable")
        variable.path = _weight_path(self, name or "variable")
        variable.regularizer = regularizers.get(regularizer)
        if variable.regularizer is not None:
            _REGULARIZED_WEIGHTS.add(variable)
        variable.constraint = constraints.get(constraint)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        return variable

    add_variable = add_weight

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing (or unfreezing) a layer does the same to its sublayers and their variables."""
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
            for v in layer._trainable_variables:
                v.trainable = value
            layer._on_trainable_changed()

    def _on_trainable_changed(self):
        """Hook for layers whose behaviour depends on `trainable` (e.g. BatchNormalization)."""

    def _own_weights(self):
        return self._trainable_variables + self._non_trainable_variables

    @property
    def weights(self):
        out, seen = [], set()
        for layer in self._flatten_layers():
            for w in layer._own_weights():
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length {len(weights)}, "
                f"but the layer was expecting {len(params)} weights."
            )
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape) != tuple(w.shape):
                raise ValueError(
                    f"Layer {self.name} weight shape {tuple(p.shape)} is not compatible with provided weight shape {tuple(w.shape)}."
                )
        for p, w in zip(params, weights):
            p.assign(np.asarray(w))

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ----- losses --------------------------------------------------------------------------------
    def add_loss(self, loss):
        self._losses.append(loss)
        _LAYERS_WITH_LOSSES.add(self)

    @property
    def losses(self):
        if not _LAYERS_WITH_LOSSES and not _REGULARIZED_WEIGHTS:
            return []
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            for w in layer._own_weights():
                reg = getattr(w, "regularizer", None)
                if reg is not None:
                    out.append(reg(w))
        return out

    def _clear_losses(self):
        # Walking the layer tree costs tens of µs per call; skip it when no layer holds losses.
        if not _LAYERS_WITH_LOSSES:
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []
                _LAYERS_WITH_LOSSES.discard(layer)

    # ----- input spec ----------------------------------------------------------------------------
    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    # ----- build ---------------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"input_shape": _shapes_to_lists(self._build_shapes)}

    def build_from_config(self, config):
        if config and not self.built:
            shape = config.get("input_shape")
            if shape is not None:
                self.build(_lists_to_shapes(shape))
                self._build_shapes = _lists_to_shapes(shape)
                self.built = True

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = tree.map_structure(lambda t: None if t is None else tuple(t.shape), inputs)
        self._build_shapes = shapes
        self.build(shapes)
        self.built = True

    # ----- calling -------------------------------------------------------------------------------
    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method implemented.")

    def _signature(self):
        sig = type(self).__dict__.get("_call_signature_cache")
        if sig is None:
            # As Keras: `training`/`mask` are passed only to a `call` that names them.
            params = inspect.signature(self.call).parameters
            sig = ("training" in params, "mask" in params)
            type.__setattr__(type(self), "_call_signature_cache", sig)
        return sig

    def __call__(self, *args, **kwargs):
        if not args and "inputs" in kwargs:
            args = (kwargs.pop("inputs"),)
        if not args:
            raise ValueError(f"Layer {self.name!r} was called without inputs.")
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(*args, **kwargs)

        takes_training, takes_mask = self._signature()
        training = kwargs.pop("training", None)
        if training is None:
            training = current_training()
        if takes_training and training is not None:
            kwargs["training"] = bool(training)
        mask = kwargs.pop("mask", None)
        dtype = self.compute_dtype if self.autocast else None
        inputs = tree.map_structure(lambda x: _to_tensor(x, dtype, self.name), args[0])
        if mask is None:
            masks = [getattr(t, "_keras_mask", None) for t in tree.flatten(inputs)]
            if any(m is not None for m in masks):
                mask = masks[0] if not tree.is_nested(inputs) else tree.pack_sequence_as(inputs, masks)
        if takes_mask and mask is not None:
            kwargs["mask"] = mask
        _check_input_spec(self.input_spec, inputs, self.name)
        if self._called:
            outputs = self._build_and_call(inputs, training, args, kwargs)
        else:
            # The first call may build this layer and its sublayers: inside its name scope.
            with name_scope(self.name, caller=self):
                outputs = self._build_and_call(inputs, training, args, kwargs)
            object.__setattr__(self, "_called", True)
        if self.activity_regularizer is not None:
            for out in tree.flatten(outputs):
                batch = out.shape[0] if out.ndim else 1
                self.add_loss(ops.divide(self.activity_regularizer(out), float(max(batch, 1))))
        if self.supports_masking or _overrides(self, "compute_mask"):
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None:
                flat_out, flat_mask = tree.flatten(outputs), tree.flatten(out_mask)
                if len(flat_mask) == 1 and len(flat_out) > 1:
                    flat_mask = flat_mask * len(flat_out)
                for o, m in zip(flat_out, flat_mask):
                    try:
                        o._keras_mask = m
                    except AttributeError:
                        pass
        return outputs

    def _build_and_call(self, inputs, training, args, kwargs):
        if not self.built:
            self._maybe_build(inputs)
            _check_input_spec(self.input_spec, inputs, self.name)
        stack = _call_context()
        if not stack:
            self._clear_losses()
        stack.append(training)
        try:
            return self.call(inputs, *args[1:], **kwargs)
        finally:
            stack.pop()

    def compute_mask(self, inputs, previous_mask=None):
        if not self.supports_masking:
            return None
        return previous_mask

    # ----- symbolic ------------------------------------------------------------------------------
    def _symbolic_call(self, *args, **kwargs):
        inputs = args[0]
        _check_input_spec(self.input_spec, inputs, self.name)
        # An explicit `training=` or `mask=` stays recorded on the node (e.g. a frozen base model
        # called with training=False, or Keras's configs, which record `mask=None`); the shape
        # computation needs neither.
        spec_kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
        with name_scope(self.name, caller=self) if not self._called else contextlib.nullcontext():
            if not self.built:
                self._maybe_build(inputs)
                _check_input_spec(self.input_spec, inputs, self.name)
            outputs = self.compute_output_spec(*args, **spec_kwargs)
        object.__setattr__(self, "_called", True)
        in_masks = [getattr(t, "_keras_mask", None) for t in tree.flatten(inputs) if isinstance(t, KerasTensor)]
        if (self.supports_masking or _overrides(self, "compute_mask")) and any(m is not None for m in in_masks):
            for o in tree.flatten(outputs):
                o._keras_mask = True  # a mask flows here at run time
        Node(self, call_args=args, call_kwargs=kwargs, outputs=outputs)
        return outputs

    def compute_output_shape(self, *args, **kwargs):
        raise NotImplementedError

    def compute_output_spec(self, *args, **kwargs):
        """Output KerasTensors for symbolic inputs: from `compute_output_shape` when the layer
        defines it, otherwise by running `call` on small concrete placeholders twice with
        different sizes for the unknown dimensions (a dimension that changes is unknown)."""
        inputs = args[0]
        if _overrides(self, "compute_output_shape"):
            shapes = tree.map_structure(lambda t: tuple(t.shape), inputs)
            # A mask (Keras configs record `mask=None` on nodes) never changes the output shape.
            extra = {k: _shape_of(v) for k, v in kwargs.items() if k != "mask" and v is not None}
            out_shapes = self.compute_output_shape(shapes, *[_shape_of(a) for a in args[1:]], **extra)
            return _specs_from_shapes(out_shapes, self.compute_dtype)
        return _trace_output_spec(self, args, kwargs)

    def symbolic_call(self, *args, **kwargs):
        return self._symbolic_call(*args, **kwargs)

    # ----- node accessors (Keras's layer.input / layer.output) -----------------------------------
    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined input.")
        node = self._inbound_nodes[0]
        args = node.arguments_flat
        return args[0] if len(args) == 1 else args

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined output.")
        outs = self._inbound_nodes[0].outputs
        return outs[0] if len(outs) == 1 else outs

    # ----- config --------------------------------------------------------------------------------
    def get_config(self):
        """`name`, `trainable`, `dtype` (and `activity_regularizer`). A subclass that does not
        override `get_config` also gets its constructor arguments, when they are all plain
        values (Keras's auto-config); otherwise it must implement `get_config`."""
        from rkeras.saving.serialization_lib import serialize_keras_object

        config = {"name": self.name}
        if type(self).get_config is Layer.get_config and _is_user_class(type(self)):
            auto = self.__dict__.get("_auto_config")
            if auto is None:
                raise NotImplementedError(
                    f"Object {type(self).__name__} was created by passing non-serializable argument values in "
                    "`__init__()`, and therefore the object must override `get_config()` in order to be "
                    "serializable. Please implement `get_config()`."
                )
            config.update(auto)
            params = inspect.signature(type(self).__init__).parameters
            takes_kwargs = "kwargs" in params and params["kwargs"].kind == inspect.Parameter.VAR_KEYWORD
            if "name" not in params and not takes_kwargs:
                config.pop("name", None)  # it could not be passed back to __init__
        config.update({"trainable": self.trainable, "dtype": serialize_keras_object(self._dtype_policy)})
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_keras_object(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "batch_shape" in config and "batch_input_shape" not in config:
            config["batch_input_shape"] = config.pop("batch_shape")
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\nException encountered: {e}"
            ) from e

    # ----- variables I/O used by saving ----------------------------------------------------------
    def save_own_variables(self, store):
        for i, v in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        own = self._trainable_variables + self._non_trainable_variables
        keys = list(store.keys())
        if len(keys) != len(own):
            if not own and not keys:
                return
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} variables, but received {len(keys)} variables during loading. "
                f"Expected: {[v.name for v in own]}"
            )
        for i, v in enumerate(own):
            value = np.asarray(store[str(i)])
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError(
                    f"Layer '{self.name}' weight {v.name!r} has shape {tuple(v.shape)}, but the saved value has shape {tuple(value.shape)}."
                )
            v.assign(value)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_AUTO_CONFIG_TYPES = (str, int, float, bool, type(None))


def _auto_config(cls, args, kwargs):
    """The constructor arguments (defaults filled in, `name` left out) when they are all plain
    values, else None: what Keras records to generate `get_config()` for user classes."""
    if not _is_user_class(cls):
        return None
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if any(p.kind == inspect.Parameter.POSITIONAL_ONLY for p in params[1:]):
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(params[0].name, None)
    for p in params:
        if p.kind == inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(p.name, {}))
        elif p.kind == inspect.Parameter.VAR_POSITIONAL and arguments.pop(p.name, ()):
            return None
    arguments.pop("name", None)
    if not all(isinstance(v, _AUTO_CONFIG_TYPES) for v in tree.flatten(arguments)):
        return None
    return arguments


def _stateless_builtin(cls):
    """rkeras's layers without a `build` (and user subclasses of them) are built from the start,
    as Keras's set `built = True` in `__init__`; a user layer deriving straight from `Layer` is
    built by its first call, as in Keras."""
    from rkeras.models.model import Model

    return any(not _is_user_class(c) and c is not Layer and not issubclass(Model, c) for c in cls.__mro__ if issubclass(c, Layer))


def _is_user_class(cls):
    """Classes defined outside rkeras (rkeras's own layers and models write their configs)."""
    return not cls.__module__.startswith("rkeras.")


def _overrides(layer, method):
    base = getattr(Layer, method)
    return getattr(type(layer), method) is not base


def _layers_in(value):
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_layers_in(v))
        return out
    if isinstance(value, dict):
        out = []
        for v in value.values():
            out.extend(_layers_in(v))
        return out
    return []


def _variables_in(value):
    if isinstance(value, _core.Variable):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _variables_in(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _variables_in(item)]
    return []


def _dtype_name(dtype):
    if isinstance(dtype, DTypePolicy):
        return dtype.variable_dtype
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        return name
    return np.dtype(dtype).name


def _legacy_batch_shape(legacy):
    """Keras 2's `input_shape=`/`input_dim=`/`batch_input_shape=` on a first layer -> batch shape."""
    if not legacy:
        return None
    if legacy.get("batch_input_shape") is not None:
        return tuple(legacy["batch_input_shape"])
    if legacy.get("batch_shape") is not None:
        return tuple(legacy["batch_shape"])
    batch = legacy.get("batch_size")
    if legacy.get("input_shape") is not None:
        shape = legacy["input_shape"]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return (batch,) + shape
    if legacy.get("input_dim") is not None:
        return (batch, int(legacy["input_dim"]))
    return None


def _shape_of(value):
    if isinstance(value, KerasTensor):
        return value.shape
    return value


def _specs_from_shapes(shapes, dtype):
    """KerasTensors for a shape or a (nested) list / tuple / dict of shapes."""
    if isinstance(shapes, (tuple, list)) and all(d is None or isinstance(d, int) for d in shapes):
        return KerasTensor(tuple(shapes), dtype)
    if isinstance(shapes, (tuple, list)):
        return [_specs_from_shapes(s, dtype) for s in shapes]
    if isinstance(shapes, dict):
        return {k: _specs_from_shapes(v, dtype) for k, v in shapes.items()}
    raise ValueError(f"compute_output_shape returned an unexpected value: {shapes!r}")


_PLACEHOLDER_SIZES = (2, 3)


def _trace_output_spec(layer, args, kwargs):
    def concrete(fill):
        def make(t):
            if isinstance(t, KerasTensor):
                shape = tuple(fill if d is None else d for d in t.shape)
                if t.dtype == "bool":
                    return ops.convert_to_tensor(np.ones(shape, dtype=bool))
                return ops.zeros(shape, dtype=t.dtype)
            return t

        return tree.map_structure(make, (args, kwargs))

    results = []
    for fill in _PLACEHOLDER_SIZES:
        a, k = concrete(fill)
        k.pop("training", None)
        stack = _call_context()
        stack.append(False)
        try:
            takes_training, takes_mask = layer._signature()
            if takes_training:
                k["training"] = False
            out = layer.call(*a, **k)
        finally:
            stack.pop()
        results.append(out)
    first, second = results

    def spec(o1, o2):
        shape = tuple(d1 if d1 == d2 else None for d1, d2 in zip(o1.shape, o2.shape))
        return KerasTensor(shape, o1.dtype)

    return tree.map_structure(spec, first, second)


def _shapes_to_lists(shapes):
    if isinstance(shapes, tuple) and all(d is None or isinstance(d, int) for d in shapes):
        return list(shapes)
    if isinstance(shapes, (list, tuple)):
        return [_shapes_to_lists(s) for s in shapes]
    if isinstance(shapes, dict):
        return {k: _shapes_to_lists(v) for k, v in shapes.items()}
    return shapes


def _lists_to_shapes(value):
    if isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return [_lists_to_shapes(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists_to_shapes(v) for k, v in value.items()}
    return value
