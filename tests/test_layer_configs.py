"""get_config of the convolution, pooling, normalization, regularization and recurrent layers
equals real Keras 3.15's key for key (after building, as JSON), as do their weights' paths,
shapes and trainable flags and their output shapes (fixtures: make_config_fixtures.py); every
config revives an equal layer."""

import json
import os
import sys

import numpy as np
import pytest

import rkeras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from config_cases import CASES, SIGNATURES, model  # noqa: E402

with open(os.path.join(FIXTURES, "keras_layer_configs.json")) as f:
    REF = json.load(f)


def _json(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("name", list(CASES))
def test_config_weights_and_output_shape_equal_keras(name):
    build, shape = CASES[name]
    layer = build(rkeras)
    layer(np.zeros(shape, "int32" if name == "embedding" else "float32"))
    want = REF[name]
    assert _json(layer.get_config()) == want["config"]
    assert [[w.path, list(w.shape), bool(w.trainable)] for w in layer.weights] == want["weights"]
    if name != "rnn_stacked":
        # (Keras's compute_output_shape gives a GRU/SimpleRNN cell's state as a bare shape where
        # its call returns it in a list; ours follows the call, so symbolic and eager agree.)
        assert _json(layer.compute_output_shape(shape)) == want["output_shape"]
    # The Keras config revives a layer with the same config (the build shapes are not part of it).
    revived = type(layer).from_config(want["config"])
    revived(np.zeros(shape, "int32" if name == "embedding" else "float32"))
    assert _json(revived.get_config()) == want["config"]


def test_model_config_equals_keras():
    """Nested layers (TimeDistributed, Bidirectional, stacked cells) serialize as Keras does:
    tuples as lists (never Keras-2 `__tuple__` objects, which Keras 3 cannot read) and each
    built inner layer with its build_config."""
    config = _json(model(rkeras).get_config())
    want = REF["__model__"]["config"]
    assert "__tuple__" not in json.dumps(config)
    # Every layer's entry equals Keras's; of the graph, the connections (Keras also records the
    # call's default `mask`/`training` keyword arguments, which are not this test's subject).
    strip = lambda layers: [{k: v for k, v in entry.items() if k != "inbound_nodes"} for entry in layers]  # noqa: E731
    assert strip(config["layers"]) == strip(want["layers"])
    assert [[node["args"] for node in e["inbound_nodes"]] for e in config["layers"]] == [[node["args"] for node in e["inbound_nodes"]] for e in want["layers"]]
    assert {k: v for k, v in config.items() if k != "layers"} == {k: v for k, v in want.items() if k != "layers"}
    revived = rkeras.Model.from_config(want)
    assert strip(_json(revived.get_config())["layers"]) == strip(want["layers"])


@pytest.mark.parametrize("name", SIGNATURES)
def test_constructor_parameters_are_keras_in_order_with_keras_defaults(name):
    """So positional calls mean what they mean in Keras (`LSTM(4, "relu")` sets the activation)."""
    import inspect

    ours = {p.name: p for p in inspect.signature(getattr(rkeras.layers, name).__init__).parameters.values() if p.name not in ("self", "kwargs")}
    theirs = REF["__signatures__"][name]
    assert [n for n in ours if n in dict(theirs)] == [n for n, _ in theirs]
    assert set(ours) - set(dict(theirs)) <= {"rms_scaling"}  # Keras takes it from **kwargs
    for n, default in theirs:
        ours_default = None if ours[n].default is inspect.Parameter.empty else ours[n].default
        # An int stands for Keras's tuple of that int (strides=1 vs (1, 1)).
        if default is not None and default.startswith("(") and isinstance(ours_default, int):
            ours_default = (ours_default,) * len(eval(default))
        assert (None if default is None else eval(default)) == ours_default, n
