"""`keras.backend`: session state (name counters) and the global numeric settings."""

from rkeras.config import epsilon, floatx, set_epsilon, set_floatx
from rkeras.utils.naming import get_uid, reset_uids

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]

_IMAGE_DATA_FORMAT = "channels_last"


def backend():
    return "rkeras"


def clear_session(free_memory=True):
    """Reset the session state, as Keras does: the name counters (the next Dense is `dense`
    again, the next KerasTensor `keras_tensor`) and the global seed generator of unseeded
    random calls (re-created from Python's `random` on next use)."""
    from rkeras import random

    reset_uids()
    random._GLOBAL_GENERATOR = None
    if free_memory:
        import gc

        gc.collect()


def image_data_format():
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format
