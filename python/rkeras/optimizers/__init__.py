"""Optimizers: SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl,
Adafactor and Lamb, each updating all variables with one fused Rust call per step. `get` accepts
class names in any case ("adam", "Adam"), configs and instances."""

from rkeras.optimizers import schedules
from rkeras.optimizers.adadelta import Adadelta
from rkeras.optimizers.adafactor import Adafactor
from rkeras.optimizers.adagrad import Adagrad
from rkeras.optimizers.adam import Adam
from rkeras.optimizers.adamax import Adamax
from rkeras.optimizers.adamw import AdamW
from rkeras.optimizers.ftrl import Ftrl
from rkeras.optimizers.lamb import Lamb
from rkeras.optimizers.lion import Lion
from rkeras.optimizers.nadam import Nadam
from rkeras.optimizers.optimizer import Optimizer
from rkeras.optimizers.rmsprop import RMSprop
from rkeras.optimizers.sgd import SGD

ALL_OBJECTS = (Optimizer, SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, Adafactor, Lamb)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({cls.__name__.lower(): cls for cls in ALL_OBJECTS})


def serialize(optimizer):
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    from rkeras.saving.serialization_lib import deserialize_keras_object

    if isinstance(config, dict) and str(config.get("class_name", "")).lower() in ALL_OBJECTS_DICT:
        config = dict(config, class_name=config["class_name"].lower())
    return deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name ("sgd", "Adam"…), a config dict or an `Optimizer`."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier) or ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is not None and cls is not Optimizer:
            return cls()
    elif isinstance(identifier, dict):
        obj = deserialize(identifier)
        if isinstance(obj, Optimizer):
            return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl", "Adafactor", "Lamb", "schedules", "get", "serialize", "deserialize"]
