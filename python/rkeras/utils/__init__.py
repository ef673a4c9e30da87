"""Utilities from `keras.utils`."""

from rkeras.utils.rng_utils import set_random_seed

__all__ = ["set_random_seed"]
