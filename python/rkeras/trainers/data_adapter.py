"""Turns what `fit`/`evaluate`/`predict` receive (arrays, lists/dicts of arrays, Python
generators, `PyDataset`) into batches of `(x, y, sample_weight)`."""

import math
import types
import warnings

import numpy as np

from rkeras import tree

__all__ = ["get_data_adapter", "unpack_x_y_sample_weight", "train_validation_split"]


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
    """Batches of numpy arrays (nested structures allowed), reshuffled every epoch if asked."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None, class_weight=None):
        self.x = _map_arrays(x, "x")
        self.y = _map_arrays(y, "y")
        self.sw = _map_arrays(sample_weight, "sample_weight")
        self.num_samples = _num_samples(self.x, self.y, self.sw)
        self.batch_size = batch_size or 32
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, (int, np.integer)) or self.batch_size <= 0:
            raise ValueError(f"Argument `batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        self.shuffle = shuffle
        self.steps = steps
        self.class_weight = class_weight
        if class_weight is not None and self.y is not None:
            self.sw = _class_weight_to_sample_weight(self.y, self.sw, class_weight)

    @property
    def num_batches(self):
        full = int(math.ceil(self.num_samples / self.batch_size))
        return full if self.steps is None else int(self.steps)

    def __iter__(self):
        n = self.num_samples
        if self.shuffle == "batch":
            order = np.arange(n)
            blocks = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
            np.random.shuffle(blocks)
            order = np.concatenate(blocks) if blocks else order
        elif self.shuffle:
            order = np.random.permutation(n)
        else:
            order = None
        steps = self.num_batches
        batches_per_pass = int(math.ceil(n / self.batch_size)) if n else 0
        for step in range(steps):
            b = step % batches_per_pass if batches_per_pass else 0
            lo, hi = b * self.batch_size, min(n, (b + 1) * self.batch_size)
            if order is None:
                take = lambda a, lo=lo, hi=hi: None if a is None else a[lo:hi]  # noqa: E731
            else:
                idx = order[lo:hi]
                take = lambda a, idx=idx: None if a is None else a[idx]  # noqa: E731
            yield (tree.map_structure(take, self.x), tree.map_structure(take, self.y), tree.map_structure(take, self.sw))

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
    """A Python generator/iterator yielding `(x, y[, sample_weight])` batches; the same iterator
    continues across epochs (so give `steps_per_epoch` for an infinite generator)."""

    def __init__(self, generator, steps=None, class_weight=None):
        self._iterator = iter(generator)
        self.steps = steps
        self.class_weight = class_weight
        self.exhausted = False

    @property
    def num_batches(self):
        return self.steps

    def __iter__(self):
        step = 0
        while self.steps is None or step < self.steps:
            try:
                data = next(self._iterator)
            except StopIteration:
                if self.steps is not None or step == 0:
                    self.exhausted = True
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
                        "generate at least `steps_per_epoch * epochs` batches.",
                        stacklevel=2,
                    )
                return
            x, y, sw = unpack_x_y_sample_weight(data)
            x, y, sw = _map_arrays(x, "x"), _map_arrays(y, "y"), _map_arrays(sw, "sample_weight")
            if self.class_weight is not None and y is not None:
                sw = _class_weight_to_sample_weight(y, sw, self.class_weight)
            yield x, y, sw
            step += 1

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """`rkeras.utils.PyDataset` (Keras's `Sequence`): `len(ds)` batches, `ds[i]` is batch i."""

    def __init__(self, dataset, steps=None, shuffle=False, class_weight=None):
        self.dataset = dataset
        self.steps = steps
        self.shuffle = shuffle
        self.class_weight = class_weight

    @property
    def num_batches(self):
        n = _dataset_len(self.dataset)
        return n if self.steps is None else min(int(self.steps), n) if n is not None else int(self.steps)

    def __iter__(self):
        hook = getattr(self.dataset, "on_epoch_begin", None)
        if hook is not None:
            hook()
        n = self.num_batches
        order = np.random.permutation(n) if self.shuffle and n else range(n)
        for i in order:
            x, y, sw = unpack_x_y_sample_weight(self.dataset[int(i)])
            x, y, sw = _map_arrays(x, "x"), _map_arrays(y, "y"), _map_arrays(sw, "sample_weight")
            if self.class_weight is not None and y is not None:
                sw = _class_weight_to_sample_weight(y, sw, self.class_weight)
            yield x, y, sw

    def on_epoch_end(self):
        hook = getattr(self.dataset, "on_epoch_end", None)
        if hook is not None:
            hook()


def _dataset_len(ds):
    n = getattr(ds, "num_batches", None)
    if n is None:
        n = len(ds)
    return int(n)


def _is_pydataset(x):
    """`PyDataset`/`Sequence` and anything shaped like them: indexable batches with a length."""
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, (list, tuple, dict, np.ndarray)) and not hasattr(x, "shape")


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None):
    if _is_pydataset(x):
        if y is not None:
            raise ValueError("`y` argument is not supported when using a PyDataset/Sequence as input (it yields `(x, y)` itself).")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using a PyDataset as input.")
        return PyDatasetAdapter(x, steps=steps, shuffle=shuffle, class_weight=class_weight)
    if isinstance(x, (types.GeneratorType,)) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        if y is not None:
            raise ValueError("`y` argument is not supported when using a Python generator as input (it yields `(x, y)` itself).")
        if sample_weight is not None:
            raise ValueError("`sample_weight` argument is not supported when using a Python generator as input.")
        return GeneratorAdapter(x, steps=steps, class_weight=class_weight)
    if x is None:
        raise ValueError("Unrecognized data: `x` is None.")
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, steps=steps, class_weight=class_weight)
