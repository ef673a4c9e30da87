"""Binary ops: power, maximum, minimum, floor_divide, mod, comparisons, logical ops and where
(bindings in src/python/ops_binary.rs)."""

from rkeras._core import (
    equal,
    floor_divide,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    not_equal,
    power,
    where,
)

__all__ = [
    "equal",
    "floor_divide",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "not_equal",
    "power",
    "where",
]
