"""`.weights.h5` files in Keras 3's layout (readable and writable by real Keras).

Layout: every object with variables (layers, models, the optimizer) gets a group `<path>/vars`
with datasets "0", "1", … in its variable order and an attribute `name`. Paths follow Keras's
traversal: a Sequential/functional model lists `layers` first; then attributes in sorted order
(public before private); objects inside lists/dicts are named by their snake_case class name made
unique within that container (`dense`, `dense_1`), not by `layer.name`."""

import os
import tempfile
import warnings
import zipfile

import numpy as np

from rkeras.utils.naming import to_snake_case

__all__ = ["save_weights", "load_weights"]


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("Saving and loading weights needs h5py: `pip install h5py`.") from e
    return h5py


class _VarsStore:
    """The dict-like view of one `vars` group that `save_own_variables`/`load_own_variables` use."""

    def __init__(self, group):
        self.group = group

    def __setitem__(self, key, value):
        self.group.create_dataset(str(key), data=np.asarray(value))

    def __getitem__(self, key):
        return self.group[str(key)][()]

    def keys(self):
        if self.group is None:
            return []
        return sorted(self.group.keys(), key=int)

    def __len__(self):
        return len(self.keys())

    def __contains__(self, key):
        return self.group is not None and str(key) in self.group


def _is_saveable(obj):
    from rkeras.layers.layer import Layer

    if isinstance(obj, Layer):
        return True
    return hasattr(obj, "save_own_variables") and hasattr(obj, "load_own_variables") and not isinstance(obj, type)


_SKIP_CACHE = {}


def _skipset(obj):
    """Attribute names never walked: those of a bare instance of the base class (Keras's rule)."""
    from rkeras.layers.layer import Layer
    from rkeras.models.model import Model

    kind = "model" if isinstance(obj, Model) else "layer" if isinstance(obj, Layer) else "other"
    if kind not in _SKIP_CACHE:
        if kind == "model":
            names = set(dir(Model))
        elif kind == "layer":
            names = set(dir(Layer))
        else:
            names = set()
        names.update(
            {
                "_inbound_nodes", "_trainable_variables", "_non_trainable_variables", "_losses", "_functional",
                "_stack", "_operations", "_nodes_by_depth", "_inputs", "_outputs", "_inputs_struct", "_outputs_struct", "_nodes",
                "_compile_loss", "_compile_metrics", "_loss_tracker", "_output_loss_trackers", "_train_variables",
                "_compile_config", "_last_output_losses", "_input_spec", "_dtype_policy", "_build_shapes",
                "_batch_input_shape", "_node_ids", "_output_tensor", "history", "input_spec", "_input_layers_meta",
                "_output_layers_meta", "activity_regularizer", "optimizer",
            }
        )
        _SKIP_CACHE[kind] = names
    return _SKIP_CACHE[kind]


def _children(obj):
    """(attribute name, value) pairs to walk below `obj`, in Keras's order."""
    from rkeras.models.functional import Functional
    from rkeras.models.model import Model
    from rkeras.models.sequential import Sequential

    graph = isinstance(obj, (Sequential, Functional))
    if graph:
        yield "layers", obj.layers
    if isinstance(obj, Model) and getattr(obj, "optimizer", None) is not None:
        yield "optimizer", obj.optimizer
    skip = _skipset(obj)
    names = [k for k in vars(obj) if not k.startswith("__") and k not in skip]
    if isinstance(obj, Model) and not graph:
        # Keras skips only a bare Layer's attributes for a subclassed model, so its `layers`
        # property is walked too (in name order): a sublayer reached first that way is stored
        # under layers/<class>_<n>.
        names.append("layers")
    for name in sorted(names, key=lambda k: "~" + k if k.startswith("_") else k):
        yield name, getattr(obj, name)


def _walk(obj, path, visit, visited):
    if id(obj) in visited:
        return
    visited.add(id(obj))
    visit(obj, path)
    for attr, child in _children(obj):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            _walk(child, child_path, visit, visited)
        elif isinstance(child, (list, tuple, dict)):
            _walk_container(child, child_path, visit, visited)


def _walk_container(container, path, visit, visited):
    values = container.values() if isinstance(container, dict) else container
    used = {}
    nested = {}
    for item in values:
        if _is_saveable(item):
            base = to_snake_case(type(item).__name__)
            n = used.get(base, 0)
            used[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
            if id(item) not in visited:
                _walk(item, f"{path}/{name}", visit, visited)
        elif isinstance(item, (list, tuple, dict)):
            n = nested.get("container", 0)
            nested["container"] = n + 1
            _walk_container(item, f"{path}/{'container' if n == 0 else f'container_{n}'}", visit, visited)


def _vars_owner_name(obj):
    return getattr(obj, "name", type(obj).__name__)


def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    if not model.built:
        raise ValueError(f"You are calling `save_weights()` on model '{model.name}', which is not built yet. Build it first (call it on data, or `model.build(input_shape)`).")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} already exists; pass `overwrite=True` to replace it.")
    h5py = _h5py()
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".weights.h5.tmp", dir=directory)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:

            def visit(obj, path):
                group = f.require_group(f"{path}/vars" if path else "vars")
                group.attrs["name"] = _vars_owner_name(obj)
                if hasattr(obj, "save_own_variables"):
                    obj.save_own_variables(_VarsStore(group))

            _walk(model, "", visit, set())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    filepath = os.fspath(filepath)
    if kwargs.get("by_name"):
        raise ValueError("Invalid keyword arguments: {'by_name'} is only supported for legacy `.h5` files.")
    if filepath.endswith(".keras"):
        with zipfile.ZipFile(filepath) as archive, archive.open("model.weights.h5") as member:
            data = member.read()
        import io

        _load_from(model, io.BytesIO(data), skip_mismatch)
        return
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"File format not supported: filepath={filepath}. rkeras loads `.weights.h5` and `.keras` files.")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    _load_from(model, filepath, skip_mismatch)


def _load_from(model, source, skip_mismatch):
    h5py = _h5py()
    if not model.built:
        raise ValueError(f"You are calling `load_weights()` on model '{model.name}', which is not built yet. Build it first (call it on data, or `model.build(input_shape)`).")
    with h5py.File(source, "r") as f:
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and "optimizer" in f and not getattr(optimizer, "built", False):
            optimizer.build(model.trainable_variables)

        def visit(obj, path):
            key = f"{path}/vars" if path else "vars"
            group = f[key] if key in f else None
            if not hasattr(obj, "load_own_variables"):
                return
            try:
                obj.load_own_variables(_VarsStore(group))
            except ValueError as e:
                if obj is optimizer:
                    warnings.warn(f"Skipping variable loading for optimizer '{_vars_owner_name(obj)}': {e}", stacklevel=3)
                elif skip_mismatch:
                    warnings.warn(f"Skipping loading weights for '{path or model.name}': {e}", stacklevel=3)
                else:
                    raise

        _walk(model, "", visit, set())
