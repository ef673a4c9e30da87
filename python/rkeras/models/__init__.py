"""`keras.models`: Model, Sequential and model (de)serialization."""

from rkeras.models.model import Model
from rkeras.models.functional import Functional
from rkeras.models.sequential import Sequential


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (untrained weights) from `model.to_json()`."""
    import json

    from rkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture (fresh weights), built from `model.get_config()`."""
    if input_tensors is not None or clone_function is not None:
        raise ValueError("clone_model: `input_tensors` and `clone_function` are not supported by rkeras.")
    from rkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

    return deserialize_keras_object(serialize_keras_object(model))


__all__ = ["Functional", "Model", "Sequential", "clone_model", "model_from_json"]
