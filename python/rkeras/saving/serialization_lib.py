"""Keras 3's JSON object format, both ways.

An object with `get_config` is written as
`{"module": "keras.layers", "class_name": "Dense", "config": {...}, "registered_name": None}`,
using Keras's public module names (not `rkeras.*`) so real Keras can read what we write. Tuples
stay tuples (JSON lists, as Keras 3 writes them), numpy arrays become `__numpy__`, plain
functions `{"class_name": "function", "config": <name>}`. Reading also accepts the Keras 2
`{"class_name", "config"}` form, its `__tuple__` encoding and Keras 2 module paths.
"""

import contextlib
import importlib
import threading
import types

import numpy as np

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
]

# "Package>Name" -> object, filled by @register_keras_serializable.
_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_scope = threading.local()

# Keras public module -> rkeras module holding the same names. Keras 2 paths are accepted on read.
_MODULE_MAP = {
    "keras": "rkeras",
    "keras.layers": "rkeras.layers",
    "keras.models": "rkeras.models",
    "keras.src.models.functional": "rkeras.models",
    "keras.src.models.sequential": "rkeras.models",
    "keras.src.engine.functional": "rkeras.models",
    "keras.engine.functional": "rkeras.models",
    "keras.src.engine.sequential": "rkeras.models",
    "keras.engine.sequential": "rkeras.models",
    "keras.initializers": "rkeras.initializers",
    "keras.regularizers": "rkeras.regularizers",
    "keras.constraints": "rkeras.constraints",
    "keras.activations": "rkeras.activations",
    "keras.optimizers": "rkeras.optimizers",
    "keras.optimizers.schedules": "rkeras.optimizers.schedules",
    "keras.losses": "rkeras.losses",
    "keras.metrics": "rkeras.metrics",
    "keras.callbacks": "rkeras.callbacks",
}


_UNSAFE_DESERIALIZATION = False


def enable_unsafe_deserialization():
    """Allow loading `lambda`s (stored bytecode) everywhere, as `safe_mode=False` does per call."""
    global _UNSAFE_DESERIALIZATION
    _UNSAFE_DESERIALIZATION = True


def in_safe_mode(safe_mode=True):
    return bool(safe_mode) and not _UNSAFE_DESERIALIZATION


def get_custom_objects():
    """The global registry of custom objects (`{"Package>Name": obj}`), mutable as in Keras."""
    return _GLOBAL_CUSTOM_OBJECTS


def _scoped_objects():
    merged = {}
    for d in getattr(_scope, "stack", []):
        merged.update(d)
    return merged


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the names resolvable while loading."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        if not hasattr(_scope, "stack"):
            _scope.stack = []
        _scope.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()


custom_object_scope = CustomObjectScope


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under `"<package>><name>"` for deserialization."""

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    for table in (_scoped_objects(), _GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def _public_module(cls):
    """Keras's public module for one of our classes: `rkeras.layers.core.dense` -> `keras.layers`."""
    explicit = cls.__dict__.get("_keras_module")
    if explicit:
        return explicit
    parts = cls.__module__.split(".")
    if parts[0] != "rkeras":
        return cls.__module__
    if len(parts) >= 3 and parts[1] == "optimizers" and parts[2] == "schedules":
        return "keras.optimizers.schedules"
    return "keras." + parts[1] if len(parts) > 1 else "keras"


def serialize_keras_object(obj):
    """A JSON-ready structure describing `obj` in Keras 3's format."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {"start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop), "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, (list, tuple)):
        # As Keras 3: a tuple stays a tuple (a JSON list); `__tuple__` is only read (Keras 2 files).
        items = [serialize_keras_object(v) for v in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        from rkeras.saving import python_code

        return {"class_name": "__lambda__", "config": {"value": list(python_code.func_dump(obj))}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        registered = _GLOBAL_CUSTOM_NAMES.get(obj)
        module = obj.__module__ or ""
        if module.startswith("rkeras."):
            module = "keras." + module.split(".")[1]
        return {"module": module, "class_name": "function", "config": obj.__name__, "registered_name": registered or obj.__name__}
    if isinstance(obj, type):
        return {"module": _public_module(obj), "class_name": "type", "config": obj.__name__, "registered_name": None}
    if hasattr(obj, "get_config"):
        cls = type(obj)
        config = obj.get_config()
        module = _public_module(cls)
        # Keras names the class under which it is registered for anything that is not one of
        # its public exports (user classes, `keras.src.models.functional.Functional`).
        public = cls.__module__.split(".")[0] == "rkeras" and not module.startswith("keras.src.")
        out = {
            "module": module,
            "class_name": cls.__name__,
            "config": serialize_keras_object(config),
            "registered_name": _GLOBAL_CUSTOM_NAMES.get(cls) or (None if public else cls.__name__),
        }
        build_config = getattr(obj, "get_build_config", None)
        if build_config is not None:
            bc = build_config()
            if bc is not None:
                out["build_config"] = serialize_keras_object(bc)
        compile_config = getattr(obj, "get_compile_config", None)
        if compile_config is not None:
            cc = compile_config()
            if cc is not None:
                out["compile_config"] = serialize_keras_object(cc)
        return out
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}: it has no `get_config()` method.")


def _module_lookup(module, name):
    target = _MODULE_MAP.get(module)
    if target is None and module and module.startswith("keras."):
        # keras.src.layers.core.dense, keras.layers.core, ... -> rkeras.layers
        parts = module.split(".")
        parts = parts[2:] if len(parts) > 2 and parts[1] == "src" else parts[1:]
        target = _MODULE_MAP.get("keras." + parts[0]) if parts else None
    if target is None:
        return None
    try:
        mod = importlib.import_module(target)
    except ImportError:
        return None
    return getattr(mod, name, None)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, module_objects=None, **kwargs):
    """Rebuild an object from `serialize_keras_object`'s output (or a Keras 2 `{"class_name",
    "config"}` dict, or a plain name looked up in `module_objects`)."""
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects, module_objects)
        if obj is None:
            return config  # a plain string value (e.g. `loss="mse"` in a compile config), as Keras
        return obj
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode, module_objects) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode, module_objects) for k, v in config.items()}

    class_name = config["class_name"]
    inner = config["config"]
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects, safe_mode, module_objects) for v in inner["value"])
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k]) for k in ("start", "stop", "step")))
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name in ("__numpy__", "__tensor__"):
        # Keras writes backend tensors (e.g. AUC's label_weights) as "__tensor__"; numpy holds them here.
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__lambda__":
        if in_safe_mode(safe_mode):
            raise ValueError(
                "Requested the deserialization of a `lambda` object. This carries a potential risk of arbitrary "
                "code execution and thus it is disallowed by default. If you trust the source of the saved model, "
                "you can pass `safe_mode=False` to the loading function in order to allow `lambda` loading."
            )
        from rkeras.saving import python_code

        return python_code.func_load(inner["value"])

    module = config.get("module")
    registered = config.get("registered_name")
    if class_name in ("function", "type"):
        name = inner
        obj = get_registered_object(registered or name, custom_objects, module_objects)
        if obj is None and registered and registered != name:
            obj = get_registered_object(name, custom_objects, module_objects)
        if obj is None and module:
            obj = _module_lookup(module, name)
        if obj is None:
            raise TypeError(f"Could not locate function '{name}'. Make sure custom functions are passed in `custom_objects`.")
        return obj

    cls = None
    for key in (registered, class_name):
        if key:
            cls = get_registered_object(key, custom_objects, module_objects)
            if cls is not None:
                break
    if cls is None and module:
        cls = _module_lookup(module, class_name)
    if cls is None and not module:
        # Keras 2 configs name classes without a module: look in the layer and model namespaces.
        for legacy_module in ("keras.layers", "keras.models"):
            cls = _module_lookup(legacy_module, class_name)
            if cls is not None:
                break
    if cls is None:
        raise TypeError(
            f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
            f"`@keras.saving.register_keras_serializable()` or passed in `custom_objects`. Full object config: {config}"
        )
    if isinstance(inner, dict):
        inner = {k: _deserialize_config_value(v, custom_objects, safe_mode, module_objects) for k, v in inner.items()}
    scope = CustomObjectScope(custom_objects) if custom_objects else contextlib.nullcontext()
    with scope:
        if hasattr(cls, "from_config"):
            try:
                obj = cls.from_config(inner, **({"safe_mode": safe_mode} if _accepts_safe_mode(cls) else {}))
            except TypeError as e:
                raise TypeError(
                    f"{cls.__name__}.from_config(config) could not rebuild the object: {e}. Config: {inner}"
                ) from e
        else:
            obj = cls(**inner)
    build_config = config.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not getattr(obj, "built", True):
        obj.build_from_config(deserialize_keras_object(build_config))
    compile_config = config.get("compile_config")
    if compile_config and hasattr(obj, "compile_from_config"):
        obj.compile_from_config(compile_config)
    return obj


def _accepts_safe_mode(cls):
    return getattr(cls, "_from_config_takes_safe_mode", False)


def _deserialize_config_value(value, custom_objects, safe_mode, module_objects):
    """Values inside a config: tuples/numpy/lambdas are decoded here; nested objects (an
    initializer, a layer) are left as dicts for the owner's `from_config`/`__init__` to resolve
    with its own `get()` (Keras does the same), except the structural encodings above."""
    if isinstance(value, dict) and value.get("class_name") in ("__tuple__", "__numpy__", "__tensor__", "__bytes__", "__slice__", "__ellipsis__"):
        return deserialize_keras_object(value, custom_objects, safe_mode, module_objects)
    if isinstance(value, list):
        return [_deserialize_config_value(v, custom_objects, safe_mode, module_objects) for v in value]
    return value
