"""`Sequential`: a stack of layers, each called on the previous one's output."""

from rkeras.layers.input_layer import InputLayer
from rkeras.layers.layer import Layer, name_scope
from rkeras.models.model import Model
from rkeras.symbolic import KerasTensor

__all__ = ["Sequential"]


class Sequential(Model):
    """`Sequential([Dense(64, activation="relu"), Dense(10)])`, or `.add()` layers one by one.
    Built from an `Input`/`InputLayer`, a first layer's `input_shape=`, `build()`, or the first call."""

    _keras_module = "keras"
    _from_config_takes_safe_mode = True

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []  # InputLayer (if any) first, then the user's layers
        self._functional = None
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # ----- structure -----------------------------------------------------------------------------
    @property
    def layers(self):
        """The user's layers (the auto-created InputLayer is hidden, as in Keras)."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    @property
    def _layers(self):
        return list(self._stack)

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if isinstance(layer, InputLayer) and self._stack and isinstance(self._stack[0], InputLayer):
            raise ValueError(f"Sequential model '{self.name}' has already been configured to use an input shape; it cannot accept a second InputLayer.")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError("An InputLayer can only be added as the first layer of a Sequential model.")
        if any(layer is existing for existing in self._stack):
            raise ValueError(f"Layer {layer.name!r} is already in Sequential model {self.name!r}.")
        names = {existing.name for existing in self._stack}
        if layer.name in names:
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is already the name of a layer in this model. Update the `name` argument to pass a unique name.")
        if not self._stack and not isinstance(layer, InputLayer):
            batch_shape = getattr(layer, "_batch_input_shape", None)
            if batch_shape is not None:
                self._stack.append(InputLayer(batch_shape=batch_shape, dtype=layer.dtype_policy.name))
        self._stack.append(layer)
        self.__dict__.pop("_inference_plan_cache", None)
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        layer = layers[-1]
        self._stack = [x for x in self._stack if x is not layer]
        self.__dict__.pop("_inference_plan_cache", None)
        self.built = False
        self._functional = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self.built = False
        self._functional = None
        if self._stack and isinstance(self._stack[0], InputLayer) and len(self._stack) > 1:
            self.build(self._stack[0].batch_shape)

    def build(self, input_shape=None):
        if input_shape is None:
            if self._stack and isinstance(self._stack[0], InputLayer):
                input_shape = self._stack[0].batch_shape
            else:
                raise ValueError("You must provide an `input_shape` argument.")
        input_shape = tuple(input_shape)
        if not self._stack or not isinstance(self._stack[0], InputLayer):
            self._stack.insert(0, InputLayer(batch_shape=input_shape))
        inputs = self._stack[0]._output_tensor
        x = inputs
        with name_scope(self.name, caller=self):  # as Keras's build: weights under `<model>/`
            for layer in self._stack[1:]:
                x = layer(x)
        from rkeras.models.functional import Functional

        # Unnamed, as in Keras: the inner graph takes a `functional` name of the session.
        self._functional = Functional(inputs=inputs, outputs=x)
        self.__dict__.pop("_inference_plan_cache", None)
        self._build_shapes = input_shape
        self.built = True

    def _maybe_build(self, inputs):
        if not self.built:
            shape = tuple(inputs.shape) if hasattr(inputs, "shape") else None
            if shape is None:
                raise ValueError(f"Sequential model {self.name!r} cannot be built from inputs of type {type(inputs).__name__}.")
            self.build((None,) + shape[1:])

    # ----- running -------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        x = inputs
        if self._functional is not None:
            from rkeras.models.functional import adjust_input_rank

            x = adjust_input_rank(x, self._functional._inputs[0].shape)
        if mask is not None:
            x._keras_mask = mask
        for layer in self._stack:
            if isinstance(layer, InputLayer):
                continue
            x = layer(x)
        return x

    def compute_output_spec(self, inputs, training=None, mask=None):
        if self._functional is None:
            self.build(tuple(inputs.shape))
        return self._functional.compute_output_spec(inputs)

    @property
    def inputs(self):
        return self._functional.inputs if self._functional else None

    @property
    def outputs(self):
        return self._functional.outputs if self._functional else None

    @property
    def input(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input yet.")
        return self._functional.input

    @property
    def output(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined output yet.")
        return self._functional.output

    @property
    def input_shape(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")
        return self._functional.input_shape

    @property
    def output_shape(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined output shape yet.")
        return self._functional.output_shape

    @property
    def input_spec(self):
        return self._functional.input_spec if self._functional is not None else None

    @input_spec.setter
    def input_spec(self, value):
        pass  # derived from the InputLayer

    # ----- config --------------------------------------------------------------------------------
    def get_config(self):
        from rkeras.saving.serialization_lib import serialize_keras_object

        config = {"name": self.name, "trainable": self.trainable, "dtype": serialize_keras_object(self.dtype_policy)}
        config["layers"] = [serialize_keras_object(layer) for layer in self._stack]
        if self._stack and isinstance(self._stack[0], InputLayer):
            config["build_input_shape"] = list(self._stack[0].batch_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        from rkeras.saving.serialization_lib import deserialize_keras_object

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            if "module" not in layer_config and "class_name" in layer_config:
                layer_config = dict(layer_config, module="keras.layers")
            layer = deserialize_keras_object(layer_config, custom_objects=custom_objects, safe_mode=safe_mode)
            model.add(layer, rebuild=False)
        build_shape = config.get("build_input_shape")
        if not (model._stack and isinstance(model._stack[0], InputLayer)) and build_shape:
            model.build(tuple(build_shape))
        else:
            model._maybe_rebuild()
        return model
