"""Global settings (Keras's `keras.config` plus rkeras's threading controls)."""

from rkeras import _core

_FLOATX = "float32"
_EPSILON = 1e-7


def set_num_threads(n):
    """Threads used by kernels; 0 restores the default (`RKERAS_NUM_THREADS` or all cores)."""
    _core.set_num_threads(int(n))


def get_num_threads():
    return _core.get_num_threads()


def simd_path():
    """The vector path of elementwise and reduction kernels: "avx512", "avx2" or "scalar"."""
    return _core.simd_path()


def floatx():
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    if value not in ("float32", "float64"):
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of 'float32', 'float64'.")
    _FLOATX = value


def epsilon():
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def enable_unsafe_deserialization():
    """Allow `lambda`s in configs and model files to be loaded (they run stored bytecode)."""
    from rkeras.saving.serialization_lib import enable_unsafe_deserialization as enable

    enable()
