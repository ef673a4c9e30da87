"""Python functions as data (Lambda layers), in Keras's format: `(code, defaults, closure)` with
the marshalled bytecode in base64. Only loaded with `safe_mode=False`: running stored bytecode
can execute anything (and needs the same Python version that wrote it)."""

import codecs
import marshal
import types


def func_dump(func):
    """`(code, defaults, closure)` of `func`, as Keras's `python_utils.func_dump`."""
    code = codecs.encode(marshal.dumps(func.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def _cell(value):
    return (lambda: value).__closure__[0]


def func_load(code, defaults=None, closure=None, globs=None):
    """The function `func_dump` described (also from the one-element tuple/list Keras writes)."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    try:
        raw = codecs.decode(code.encode("ascii"), "base64")
    except (UnicodeEncodeError, ValueError):
        raw = code.encode("raw_unicode_escape")
    fn_code = marshal.loads(raw)
    if globs is None:
        import numpy
        import rkeras

        globs = {"__builtins__": __builtins__, "np": numpy, "numpy": numpy, "keras": rkeras, "rkeras": rkeras, "ops": rkeras.ops}
    cells = tuple(_cell(v) for v in closure) if closure is not None else None
    return types.FunctionType(fn_code, globs, name=fn_code.co_name, argdefs=defaults, closure=cells)
