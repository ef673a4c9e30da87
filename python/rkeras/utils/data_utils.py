"""`PyDataset` (Keras 2's `Sequence`): a dataset of batches, `ds[i]` being batch `i`."""


class PyDataset:
    """Subclass and implement `__getitem__(index)` (a batch: `x`, `(x, y)` or `(x, y, w)`) and
    `__len__` (the number of batches) or a `num_batches` property. `on_epoch_begin` and
    `on_epoch_end` are called around each epoch. Batches are produced in the calling thread;
    `workers`, `use_multiprocessing` and `max_queue_size` are kept for Keras compatibility."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`.")

    @property
    def num_batches(self):
        if type(self).__len__ is PyDataset.__len__:
            return None
        return len(self)

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__` or `num_batches`.")

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


# Keras 2's name.
Sequence = PyDataset
