"""`Variable`: mutable state (weights) with Tensor-like operators."""

from rkeras import _core


class Variable(_core.Variable):
    """A mutable tensor value with a fixed identity (Keras 3 signature:
    `Variable(initializer, shape=None, dtype=None, trainable=True, name=None)`)."""

    # numpy defers binary operators to ours (as TensorFlow's tensors do).
    __array_priority__ = 100

    @property
    def path(self):
        """Where the variable lives, `dense/kernel` (its name unless its owner set it)."""
        return self.__dict__.get("_path") or self.name

    @path.setter
    def path(self, value):
        self.__dict__["_path"] = value

    def __getitem__(self, key):
        return self.value[key]

    def __len__(self):
        return len(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)


def _install_operators():
    from rkeras import ops

    def forward(fn):
        return lambda self, other: fn(self, other)

    def reverse(fn):
        return lambda self, other: fn(other, self)

    binary = {
        "add": ops.add,
        "sub": ops.subtract,
        "mul": ops.multiply,
        "truediv": ops.divide,
        "matmul": ops.matmul,
        "pow": ops.power,
        "mod": ops.mod,
        "floordiv": ops.floor_divide,
    }
    for name, fn in binary.items():
        setattr(Variable, f"__{name}__", forward(fn))
        setattr(Variable, f"__r{name}__", reverse(fn))
    # Comparisons and bool operators: the value's (Tensor) operators, which return NotImplemented
    # for operands that are not array-like (so `v == None` is False). Hash stays by identity.
    def delegate(name):
        return lambda self, other: getattr(self.value, name)(other)

    for name in ("lt", "le", "gt", "ge", "eq", "ne", "and", "rand", "or", "ror", "xor", "rxor"):
        setattr(Variable, f"__{name}__", delegate(f"__{name}__"))
    Variable.__hash__ = object.__hash__
    Variable.__invert__ = lambda self: ~self.value
    Variable.__neg__ = lambda self: ops.negative(self)
    Variable.__abs__ = lambda self: ops.abs(self)
    Variable.__pos__ = lambda self: self.value
    Variable.T = property(lambda self: ops.transpose(self))


_install_operators()
