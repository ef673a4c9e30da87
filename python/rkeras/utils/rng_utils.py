"""Utilities from `keras.utils`."""

import random as _py_random

__all__ = ["set_random_seed"]


def set_random_seed(seed):
    """Seed Python's `random`, numpy's global generator and rkeras's global seed generator, so a
    program's random draws (unseeded `rkeras.random` calls included) are reproducible."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"set_random_seed: expected `seed` to be an integer, received {seed!r}")
    import numpy as np

    from rkeras import random

    _py_random.seed(seed)
    np.random.seed(seed % (1 << 32))
    random._reset_global_generator(seed)
