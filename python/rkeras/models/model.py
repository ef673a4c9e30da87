"""`Model`: a Layer with training (compile/fit/evaluate/predict), summary, saving. `Model(inputs,
outputs)` builds a functional model; subclassing `Model` gives a model defined by `call`."""

import inspect
import json

from rkeras import ops
from rkeras.layers.layer import Layer, _call_context
from rkeras.models.inference_plan import SKIP, inference_plan
from rkeras.trainers.trainer import Trainer

__all__ = ["Model"]


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls):
    """`cls` with Functional mixed in after it (its own methods first), made once per class."""
    from rkeras.models.functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _is_functional_call(args, kwargs):
    return ("inputs" in kwargs and "outputs" in kwargs) or (len(args) >= 2) or (len(args) == 1 and "outputs" in kwargs)


class Model(Trainer, Layer):
    """`Model(inputs, outputs, name=None)` or a subclass implementing `call`."""

    _keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        if _is_functional_call(args, kwargs):
            from rkeras.models.functional import Functional

            if cls is Model:
                return Layer.__new__(Functional, *args, **kwargs)
            if not issubclass(cls, Functional):
                # `class CustomModel(keras.Model)` built as `CustomModel(inputs, outputs)` (the
                # "customize fit()" pattern): as Keras, the class becomes a functional model.
                return Layer.__new__(_functional_subclass(cls), *args, **kwargs)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        if args or kwargs:
            unknown = dict(kwargs)
            if args:
                unknown["args"] = args
            raise TypeError(f"Keyword argument(s) not understood by {type(self).__name__}: {unknown}")
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype)
        Trainer.__init__(self)

    def __call__(self, *args, **kwargs):
        # Inference calls of Sequential/functional models of built-in layers take the lean path
        # (models/inference_plan.py), which gives what the generic path would.
        if len(args) == 1 and (not kwargs or (len(kwargs) == 1 and not kwargs.get("training", True))):
            stack = _call_context()  # not inside a training-mode call (`current_training()`)
            if not (stack and stack[-1]):
                plan = inference_plan(self)
                if plan is not None:
                    out = plan.run(args[0])
                    if out is not SKIP:
                        if not stack:
                            self._clear_losses()
                        return out
        return Layer.__call__(self, *args, **kwargs)

    # ----- structure -----------------------------------------------------------------------------
    @property
    def layers(self):
        return self._layers

    def get_layer(self, name=None, index=None):
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            layers = self.layers
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None):
        """Subclassed models: run `call` once on zeros of `input_shape` (None dims -> 1) so every
        sublayer creates its weights."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to build a subclassed model.")

        def zeros(shape):
            return ops.zeros(tuple(1 if d is None else d for d in shape), dtype=self.compute_dtype)

        if isinstance(input_shape, dict):
            x = {k: zeros(v) for k, v in input_shape.items()}
        elif isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            x = [zeros(s) for s in input_shape]
        else:
            x = zeros(tuple(input_shape))
        self.built = True
        self._build_shapes = input_shape
        try:
            self(x)
        except Exception:
            self.built = False
            raise

    def _maybe_build(self, inputs):
        # A subclassed model's sublayers build themselves during its first call.
        if type(self).build is Model.build:
            self.built = True
        else:
            super()._maybe_build(inputs)

    # ----- summary -------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
        from rkeras.utils.summary_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn, expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    # ----- serialization -------------------------------------------------------------------------
    def to_json(self, **kwargs):
        from rkeras.saving.serialization_lib import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from rkeras.models.functional import Functional, functional_from_config

            # As Keras: a subclass whose constructor is the functional one (not overridden, or
            # taking *args/**kwargs) is rebuilt as a functional model of that class.
            init = inspect.getfullargspec(cls.__init__)
            revivable = issubclass(cls, Functional) or cls.__init__ is Model.__init__ or (init.varargs == "args" and init.varkw == "kwargs")
            return functional_from_config(cls if revivable else Functional, config, custom_objects=custom_objects)
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                "Unable to revive model from config. When overriding the `get_config()` method, make sure that the "
                f"returned config contains all items used as arguments in the constructor to {cls}, which is the "
                "default behavior. You can override this default behavior by defining a `from_config(cls, config)` "
                f"class method to specify how to create an instance of {cls.__name__} from its config.\n\n"
                f"Received config={config}\n\nError encountered during deserialization: {e}"
            ) from e

    # ----- weights files -------------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        from rkeras.saving import weights_file

        weights_file.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        from rkeras.saving import weights_file

        weights_file.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

