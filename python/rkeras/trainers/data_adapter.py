"""Turns what `fit`/`evaluate`/`predict` receive (arrays, lists/dicts of arrays, Python
generators, `PyDataset`) into batches of `(x, y, sample_weight)`."""

import math
import types
import warnings

import numpy as np

from rkeras import tree

__all__ = ["get_data_adapter", "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "train_validation_split"]


def unpack_x_y_sample_weight(data):
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """A batch as Keras hands it to `train_step`: `(x,)`, `(x, y)` or `(x, y, sample_weight)`,
    so a custom `train_step` can unpack `x, y = data`."""
    if sample_weight is not None:
        return (x, y, sample_weight)
    if y is not None:
        return (x, y)
    return (x,)


def _as_array(value, what):
    if value is None:
        return None
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"`{what}` must be numeric arrays; received an array of dtype {arr.dtype}.")
    if arr.ndim == 0:
        raise ValueError(f"`{what}` must have a batch dimension; received a scalar.")
    return arr


def _map_arrays(structure, what):
    return tree.map_structure(lambda v: _as_array(v, what), structure)


def _num_samples(x, y, sw):
    counts = {}
    for name, part in (("x", x), ("y", y), ("sample_weight", sw)):
        for leaf in tree.flatten(part):
            if leaf is not None:
                counts.setdefault(name, set()).add(leaf.shape[0])
    all_sizes = set().union(*counts.values()) if counts else set()
    if len(all_sizes) > 1:
        detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in counts.items())
        raise ValueError(f"Data cardinality is ambiguous. Make sure all arrays contain the same number of samples. {detail}")
    return all_sizes.pop() if all_sizes else 0


def train_validation_split(arrays, validation_split):
    """The last `validation_split` fraction (before shuffling) becomes validation data, as Keras."""
    x, y, sw = arrays
    n = _num_samples(x, y, sw)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and training set as "
            f"specified by `validation_split={validation_split}`. Either provide more data, or a different value for the "
            "`validation_split` argument."
        )

    def cut(part, lo, hi):
        return tree.map_structure(lambda a: None if a is None else a[lo:hi], part)

    train = tuple(cut(p, 0, split_at) for p in (x, y, sw))
    val = tuple(cut(p, split_at, n) for p in (x, y, sw))
    return train, val


class ArrayAdapter:
    """Batches of numpy arrays (nested structures allowed); each pass is reshuffled if asked."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, class_weight=None):
        self.x = _map_arrays(x, "x")
        self.y = _map_arrays(y, "y")
        self.sw = _map_arrays(sample_weight, "sample_weight")
        self.num_samples = _num_samples(self.x, self.y, self.sw)
        self.batch_size = batch_size or 32
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, (int, np.integer)) or self.batch_size <= 0:
            raise ValueError(f"Argument `batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        self.shuffle = shuffle
        if class_weight is not None and self.y is not None:
            self.sw = _class_weight_to_sample_weight(self.y, self.sw, class_weight)

    @property
    def num_batches(self):
        return int(math.ceil(self.num_samples / self.batch_size))

    def get_iterator(self):
        n, bs = self.num_samples, self.batch_size
        if self.shuffle == "batch":
            blocks = [np.arange(i, min(n, i + bs)) for i in range(0, n, bs)]
            np.random.shuffle(blocks)
            order = np.concatenate(blocks) if blocks else np.arange(n)
        elif self.shuffle:
            order = np.random.permutation(n)
        else:
            order = None
        for lo in range(0, n, bs):
            if order is None:
                take = lambda a, lo=lo: None if a is None else a[lo : lo + bs]  # noqa: E731
            else:
                idx = order[lo : lo + bs]
                take = lambda a, idx=idx: None if a is None else a[idx]  # noqa: E731
            yield pack_x_y_sample_weight(tree.map_structure(take, self.x), tree.map_structure(take, self.y), tree.map_structure(take, self.sw))

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


def _class_weight_to_sample_weight(y, sw, class_weight):
    flat_y = tree.flatten(y)
    if len(flat_y) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output.")
    labels = flat_y[0]
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = np.argmax(labels, axis=-1)
    elif labels.ndim > 1:
        labels = labels.reshape(labels.shape[0], -1)[:, 0]
    labels = np.round(labels).astype(np.int64) if labels.dtype.kind == "f" else labels.astype(np.int64)
    max_class = max(int(labels.max()) if labels.size else 0, max(class_weight) if class_weight else 0)
    table = np.ones(max_class + 1, dtype=np.float32)
    for k, v in class_weight.items():
        table[int(k)] = v
    weights = table[labels]
    if sw is not None:
        weights = weights * np.asarray(sw, dtype=np.float32).reshape(weights.shape[0], -1)[:, 0]
    return weights


class GeneratorAdapter:
    """A Python generator/iterator yielding `(x, y[, sample_weight])` batches. It cannot be
    restarted: every pass continues it (give `steps_per_epoch` for an infinite generator)."""

    def __init__(self, generator, class_weight=None):
        self._iterator = iter(generator)
        self.class_weight = class_weight

    num_batches = None

    def get_iterator(self):
        for data in self._iterator:
            x, y, sw = unpack_x_y_sample_weight(data)
            x, y, sw = _map_arrays(x, "x"), _map_arrays(y, "y"), _map_arrays(sw, "sample_weight")
            if self.class_weight is not None and y is not None:
                sw = _class_weight_to_sample_weight(y, sw, self.class_weight)
            yield pack_x_y_sample_weight(x, y, sw)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """`rkeras.utils.PyDataset` (Keras's `Sequence`): `len(ds)` batches, `ds[i]` is batch i."""

    def __init__(self, dataset, shuffle=False, class_weight=None):
        self.dataset = dataset
        self.shuffle = shuffle
        self.class_weight = class_weight

    @property
    def num_batches(self):
        return _dataset_len(self.dataset)

    def get_iterator(self):
        n = self.num_batches
        order = np.random.permutation(n) if self.shuffle and n else range(n)
        for i in order:
            x, y, sw = unpack_x_y_sample_weight(self.dataset[int(i)])
            x, y, sw = _map_arrays(x, "x"), _map_arrays(y, "y"), _map_arrays(sw, "sample_weight")
            if self.class_weight is not None and y is not None:
                sw = _class_weight_to_sample_weight(y, sw, self.class_weight)
            yield pack_x_y_sample_weight(x, y, sw)

    def on_epoch_begin(self):
        hook = getattr(self.dataset, "on_epoch_begin", None)
        if hook is not None:
            hook()

    def on_epoch_end(self):
        hook = getattr(self.dataset, "on_epoch_end", None)
        if hook is not None:
            hook()


_RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or generator can generate at "
    "least `steps_per_epoch * epochs` batches."
)


class EpochIterator:
    """The batches of one epoch after another, with Keras 3's rules: with `steps_per_epoch` the
    same pass over the data continues into the next epoch, and an epoch ends early (with a
    warning) when the pass runs out; without it an epoch is one pass (a generator's first pass
    is as long as it lasts). `exhausted` is set when a generator has nothing left."""

    def __init__(self, adapter, steps_per_epoch=None):
        self.adapter = adapter
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self._num_batches = adapter.num_batches
        self._current = None
        self._steps_seen = 0
        self.exhausted = False

    @property
    def num_batches(self):
        return self.steps_per_epoch or self._num_batches

    def reset(self):
        """The next epoch starts a fresh pass (evaluate does this before each run)."""
        self._current = None
        self._steps_seen = 0

    def __iter__(self):
        self.adapter.on_epoch_begin()
        steps = self.steps_per_epoch or self._num_batches
        if self._current is None or self.steps_per_epoch is None:
            self._current = iter(self.adapter.get_iterator())
            self._steps_seen = 0
        step = 0
        while steps is None or step < steps:
            if self._num_batches and self._steps_seen >= self._num_batches:
                if self.steps_per_epoch:
                    warnings.warn(_RAN_OUT, stacklevel=2)
                break
            try:
                batch = next(self._current)
            except StopIteration:
                if self._num_batches is None:
                    self._num_batches = self._steps_seen
                self.exhausted = step == 0
                self._current = None
                warnings.warn(_RAN_OUT, stacklevel=2)
                return
            self._steps_seen += 1
            step += 1
            yield batch
        if self._num_batches and self._steps_seen >= self._num_batches:
            self._current = None

    def on_epoch_end(self):
        self.adapter.on_epoch_end()


def _dataset_len(ds):
    n = getattr(ds, "num_batches", None)
    if n is None:
        n = len(ds)
    return int(n)


def _is_pydataset(x):
    """`PyDataset`/`Sequence` and anything shaped like them: indexable batches with a length."""
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, (list, tuple, dict, np.ndarray)) and not hasattr(x, "shape")


def _check_array_like(x, what):
    """Plain Python lists of numbers are not one of the supported inputs (Keras reads a list as
    one array per model input): say so instead of failing on a scalar leaf."""
    if isinstance(x, (list, tuple)) and x and not any(isinstance(v, (list, tuple, dict)) or hasattr(v, "shape") for v in x):
        raise ValueError(
            f"Unrecognized data type: `{what}` is a {type(x).__name__} of Python scalars. Pass a NumPy array "
            f"(`np.asarray({what})`), a Tensor, or a list/dict of arrays (one per model input or output)."
        )
    if isinstance(x, (list, tuple)):
        for v in x:
            if isinstance(v, (list, tuple)) and v and not any(isinstance(u, (list, tuple, dict)) or hasattr(u, "shape") for u in v):
                raise ValueError(
                    f"Unrecognized data type: `{what}` contains a {type(v).__name__} of Python scalars. Pass NumPy "
                    f"arrays (`np.asarray(...)`) or Tensors, one per model input or output."
                )


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None):
    """An EpochIterator over `x` (and `y`, `sample_weight`) with Keras's `steps` semantics."""
    if _is_pydataset(x):
        if y is not None:
            raise ValueError("`y` argument is not supported when using a PyDataset/Sequence as input (it yields `(x, y)` itself).")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using a PyDataset as input.")
        return EpochIterator(PyDatasetAdapter(x, shuffle=shuffle, class_weight=class_weight), steps)
    if isinstance(x, (types.GeneratorType,)) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        if y is not None:
            raise ValueError("`y` argument is not supported when using a Python generator as input (it yields `(x, y)` itself).")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using a Python generator as input.")
        if shuffle:
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a generator. "
                "The generator is expected to yield already-shuffled data.",
                stacklevel=3,
            )
        return EpochIterator(GeneratorAdapter(x, class_weight=class_weight), steps)
    if x is None:
        raise ValueError("Unrecognized data: `x` is None.")
    for part, what in ((x, "x"), (y, "y"), (sample_weight, "sample_weight")):
        _check_array_like(part, what)
    return EpochIterator(ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, class_weight=class_weight), steps)
