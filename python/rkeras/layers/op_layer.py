"""Operators on KerasTensors (`x * 2`, `x[:, 0]`, `keras.ops.add(a, b)` in a functional graph)
become a node of an `OpLayer` naming the rkeras op, so the graph runs and serializes like any
other layer."""

from rkeras import ops, tree
from rkeras.layers.layer import Layer, _trace_output_spec
from rkeras.symbolic import KerasTensor, Node

__all__ = ["OpLayer", "apply_op"]


def _get_item(x, key):
    return x[key]


_SPECIAL = {"get_item": _get_item}


def _resolve(name):
    fn = _SPECIAL.get(name) or getattr(ops, name, None)
    if fn is None:
        raise ValueError(f"Unknown op {name!r} in a functional graph.")
    return fn


# The class (and so the default name) of the operation Keras records for these operators.
_KERAS_OPS = {"divide": "TrueDivide", "abs": "Absolute", "get_item": "GetItem"}


def keras_op_class_name(op):
    """`multiply` -> `Multiply`, `divide` -> `TrueDivide`: what Keras's summary shows for the op."""
    return _KERAS_OPS.get(op) or "".join(part.capitalize() for part in op.split("_"))


class OpLayer(Layer):
    """One rkeras op applied to symbolic arguments; constants are stored in the config. Like
    Keras's operations it is a node of the graph but not one of `model.layers`."""

    def __init__(self, op, **kwargs):
        if kwargs.get("name") is None:
            from rkeras.utils.naming import auto_name, to_snake_case

            kwargs["name"] = auto_name(to_snake_case(keras_op_class_name(op)))
        super().__init__(**kwargs)
        self.op = op
        self._fn = _resolve(op)

    def call(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        if any(isinstance(t, KerasTensor) for t in tree.flatten((args, kwargs))):
            outputs = _trace_output_spec(self, args, kwargs)
            Node(self, call_args=args, call_kwargs=kwargs, outputs=outputs)
            return outputs
        return self._fn(*args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["op"] = self.op
        return config


def apply_op(name, *args, **kwargs):
    return OpLayer(name)(*args, **kwargs)

