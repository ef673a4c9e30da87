"""Symbolic tensors for the functional API: a `KerasTensor` has a shape (None for unknown
dimensions) and a dtype, and remembers which layer call (`Node`) produced it, so a `Model(inputs,
outputs)` can walk the graph back from its outputs."""

from rkeras import tree


class KerasTensor:
    """The symbolic stand-in for a tensor: `Input(shape=(8,))` returns one; calling a layer on it
    records a `Node` and returns new KerasTensors."""

    def __init__(self, shape, dtype="float32", name=None, sparse=False, ragged=False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = _dtype_name(dtype)
        if name is None:
            from rkeras.utils.naming import auto_name

            name = auto_name("keras_tensor")
        self.name = name
        self.sparse = sparse
        self.ragged = ragged
        self._keras_history = None  # (operation, node_index, tensor_index)
        self._keras_mask = None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, name={self.name}>"

    def __len__(self):
        raise TypeError("A KerasTensor is symbolic: it has no length. Use `x.shape[0]` for the batch dimension.")

    def __iter__(self):
        raise TypeError("A KerasTensor is symbolic and cannot be iterated over.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python boolean.")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. It doesn't have any actual "
            "numerical value. You cannot convert it to a NumPy array."
        )

    # Operators build graph nodes (as Keras's KerasTensor operators do): `x * 2` inside a
    # functional model becomes a layer applying `ops.multiply`.
    def _op(self, name, *args):
        from rkeras.layers.op_layer import apply_op

        return apply_op(name, *args)

    def __add__(self, other):
        return self._op("add", self, other)

    def __radd__(self, other):
        return self._op("add", other, self)

    def __sub__(self, other):
        return self._op("subtract", self, other)

    def __rsub__(self, other):
        return self._op("subtract", other, self)

    def __mul__(self, other):
        return self._op("multiply", self, other)

    def __rmul__(self, other):
        return self._op("multiply", other, self)

    def __truediv__(self, other):
        return self._op("divide", self, other)

    def __rtruediv__(self, other):
        return self._op("divide", other, self)

    def __matmul__(self, other):
        return self._op("matmul", self, other)

    def __rmatmul__(self, other):
        return self._op("matmul", other, self)

    def __pow__(self, other):
        return self._op("power", self, other)

    def __neg__(self):
        return self._op("negative", self)

    def __abs__(self):
        return self._op("abs", self)

    def __getitem__(self, key):
        return self._op("get_item", self, key)


class Node:
    """One call of an operation (layer) on symbolic inputs: the call's arguments (with
    KerasTensors inside) and the KerasTensors it returned."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = tree.flatten(outputs) if outputs is not None else []
        self.arguments_flat = [t for t in tree.flatten((self.call_args, self.call_kwargs)) if isinstance(t, KerasTensor)]
        self.is_input = not self.arguments_flat
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = (operation, node_index, i)
        self.parent_nodes = []
        for t in self.arguments_flat:
            if t._keras_history is not None:
                op, idx, _ = t._keras_history
                self.parent_nodes.append(op._inbound_nodes[idx])

    @property
    def input_tensors(self):
        return self.arguments_flat


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)


def any_symbolic(structure):
    return any(isinstance(t, KerasTensor) for t in tree.flatten(structure))


def _dtype_name(dtype):
    if dtype is None:
        from rkeras import config

        return config.floatx()
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        return name
    import numpy as np

    return np.dtype(dtype).name
