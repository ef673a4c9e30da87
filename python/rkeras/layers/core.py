"""Core layers: Dense (one fused Rust call: matmul + bias + activation), Activation, Identity, Lambda."""

from rkeras import activations, constraints, initializers, ops, regularizers
from rkeras.layers.layer import InputSpec, Layer
from rkeras.ops import _fused
from rkeras.saving.serialization_lib import serialize_keras_object

__all__ = ["Activation", "Dense", "Identity", "Lambda"]


def _positive_int(value, arg, layer):
    if isinstance(value, bool) or not hasattr(value, "__index__") or value.__index__() <= 0:
        raise ValueError(f"Received an invalid value for `{arg}` in {layer}, expected a positive integer. Received: {arg}={value!r}")
    return value.__index__()


class Dense(Layer):
    """`outputs = activation(inputs @ kernel + bias)` over the last axis; kernel (in, units)."""

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if lora_rank is not None:
            raise ValueError("Dense: LoRA (`lora_rank`) is not supported by rkeras.")
        if quantization_config is not None:
            raise ValueError(f"Dense: quantized layers are not supported by rkeras. Received: quantization_config={quantization_config!r}")
        self.units = _positive_int(units, "units", "Dense")
        self.activation = activations.get(activation)
        self._fused_activation = _fused_name(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer {self.name!r}: the last dimension of the inputs to `Dense` should be defined. Found None.")
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units), initializer=self.kernel_initializer, regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer, regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs, training=None):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        if self._fused_activation is not None:
            return _fused.dense(inputs, self.kernel, self.bias, self._fused_activation)
        return self.activation(_fused.dense(inputs, self.kernel, self.bias, "linear"))

    def _native_step(self):
        """This layer's step of an inference plan run in Rust (models/inference_plan.py, which
        guarantees the input's dtype): the fused kernel, or None to call the layer."""
        if self._fused_activation is None:
            return None
        return ("dense", self.kernel, self.bias, self._fused_activation)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": serialize_keras_object(self.kernel_regularizer),
                "bias_regularizer": serialize_keras_object(self.bias_regularizer),
                "kernel_constraint": serialize_keras_object(self.kernel_constraint),
                "bias_constraint": serialize_keras_object(self.bias_constraint),
                "quantization_config": None,
            }
        )
        return config


def _fused_name(activation):
    """The name the fused Rust dense kernel knows this activation by, or None."""
    for name in _fused.FUSED_ACTIVATIONS:
        if activation is activations.get(name):
            return name
    return None


class Activation(Layer):
    """Applies an activation function: `Activation("relu")`."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Identity(Layer):
    """Returns its input unchanged."""

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Lambda(Layer):
    """Wraps a function of tensors as a layer: `Lambda(lambda x: x * 2)`. Saved lambdas load only
    with `safe_mode=False` (loading runs stored bytecode)."""

    _from_config_takes_safe_mode = True

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, received {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None

    def build(self, input_shape):
        self.built = True  # nothing to create; built by the first call as in Keras (records the shape)

    def call(self, inputs, mask=None, training=None):
        import inspect

        kwargs = dict(self.arguments)
        params = inspect.signature(self.function).parameters
        if "mask" in params:
            kwargs["mask"] = mask
        if "training" in params:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_spec(self, *args, **kwargs):
        from rkeras.layers.layer import _specs_from_shapes, _trace_output_spec

        if self._output_shape is None:
            return _trace_output_spec(self, args, kwargs)

        shape = self._output_shape
        if callable(shape):
            from rkeras import tree

            shape = shape(tree.map_structure(lambda t: tuple(t.shape), args[0]))
        else:
            shape = (args[0].shape[0],) + tuple(shape)
        return _specs_from_shapes(tuple(shape) if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape) else shape, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        from rkeras import tree
        from rkeras.symbolic import KerasTensor

        def is_shape(s):
            return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)

        if is_shape(input_shape):
            specs = KerasTensor(tuple(input_shape), self.compute_dtype)
        else:
            specs = [KerasTensor(tuple(s), self.compute_dtype) for s in input_shape]
        return tree.map_structure(lambda t: tuple(t.shape), self.compute_output_spec(specs))

    def get_config(self):
        config = super().get_config()
        config["function"] = _function_config(self.function)
        if self._output_shape is not None:
            config["output_shape"] = _function_config(self._output_shape) if callable(self._output_shape) else self._output_shape
        if self.mask is not None:
            config["mask"] = _function_config(self.mask) if callable(self.mask) else serialize_keras_object(self.mask)
        config["arguments"] = serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, safe_mode=True, custom_objects=None):
        from rkeras.saving.serialization_lib import deserialize_keras_object, in_safe_mode

        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                if in_safe_mode(safe_mode):
                    raise ValueError(
                        "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
                        "carries a potential risk of arbitrary code execution and thus it is disallowed by default. If "
                        "you trust the source of the artifact, you can override this error by passing `safe_mode=False` "
                        "to the loading function, or calling `keras.config.enable_unsafe_deserialization()."
                    )
                config[key] = _load_lambda(value["config"])
            elif isinstance(value, dict) and "class_name" in value:
                config[key] = deserialize_keras_object(value, custom_objects=custom_objects, safe_mode=safe_mode)
        if isinstance(config.get("output_shape"), list) and all(d is None or isinstance(d, int) for d in config["output_shape"]):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)


def _function_config(fn):
    """A lambda as Keras's Lambda layer writes it (its bytecode); other functions by name."""
    import types

    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        from rkeras.saving import python_code

        code, defaults, closure = python_code.func_dump(fn)
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}}
    return serialize_keras_object(fn)


def _load_lambda(config):
    from rkeras.saving import python_code

    if "code" in config:  # Keras's Lambda layer format
        return python_code.func_load(config["code"], defaults=config.get("defaults"), closure=config.get("closure"))
    return python_code.func_load(config["value"])  # the generic `__lambda__` record
