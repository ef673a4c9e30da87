"""Python functions as strings (Lambda layers): marshalled bytecode in base64, as Keras stores them.
Only loaded with `safe_mode=False`: running stored bytecode can execute anything."""

import base64
import marshal
import types


def func_dump(func):
    """A string encoding `func`'s code (defaults and closure values are not kept)."""
    code = marshal.dumps(func.__code__)
    return base64.b64encode(code).decode("ascii")


def func_load(code, globs=None):
    raw = base64.b64decode(code.encode("ascii") if isinstance(code, str) else code)
    fn_code = marshal.loads(raw)
    if globs is None:
        import numpy
        import rkeras

        globs = {"__builtins__": __builtins__, "np": numpy, "numpy": numpy, "keras": rkeras, "rkeras": rkeras, "ops": rkeras.ops}
    return types.FunctionType(fn_code, globs)
