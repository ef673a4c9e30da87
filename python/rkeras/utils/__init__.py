"""Utilities from `keras.utils`."""

from rkeras.utils.data_utils import PyDataset, Sequence
from rkeras.utils.numerical_utils import normalize, to_categorical
from rkeras.utils.progbar import Progbar
from rkeras.utils.rng_utils import set_random_seed
from rkeras.utils.sequence_utils import pad_sequences


def clear_session(free_memory=True):
    """`keras.utils.clear_session`: the same as `rkeras.backend.clear_session`."""
    from rkeras import backend

    backend.clear_session(free_memory=free_memory)


__all__ = ["PyDataset", "Sequence", "Progbar", "clear_session", "normalize", "pad_sequences", "set_random_seed", "to_categorical"]
