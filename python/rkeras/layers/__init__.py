"""`keras.layers`: the layers, under Keras 3's names."""

from rkeras.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from rkeras.layers.core import Activation, Dense, Identity, Lambda
from rkeras.layers.input_layer import Input, InputLayer
from rkeras.layers.layer import InputSpec, Layer
from rkeras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from rkeras.layers.op_layer import OpLayer
from rkeras.layers.regularization import ActivityRegularization, Dropout
from rkeras.layers.reshaping import Flatten, Permute, RepeatVector, Reshape


def serialize(layer):
    from rkeras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    from rkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=globals())
