"""`keras.saving`: Keras 3's object serialization (and, with the model API, file saving/loading)."""

from rkeras.saving.serialization_lib import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
