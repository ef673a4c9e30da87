"""Sequential, functional and subclassed models: building, graphs, configs, summary, weights files."""

import json

import numpy as np
import pytest

import rkeras
from rkeras import layers
from rkeras.models import Model, Sequential

rng = np.random.default_rng(0)


def _functional():
    a = rkeras.Input(shape=(4,), name="a")
    b = rkeras.Input(shape=(3,), name="b")
    shared = layers.Dense(5, activation="relu", name="shared")
    h = layers.concatenate([shared(layers.Dense(4, name="proj")(b)), shared(a)])
    out = layers.Dense(2, activation="softmax", name="out")(h)
    aux = layers.Dense(1, name="aux")(h * 2.0)
    return Model(inputs=[a, b], outputs=[out, aux])


def test_sequential_builds_from_input_shape_or_first_call():
    model = Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(2)])
    assert model.built and model.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    lazy = Sequential([layers.Dense(8), layers.Dense(2)])
    assert not lazy.built
    assert lazy(np.ones((3, 4), "float32")).shape == (3, 2)
    assert lazy.built
    legacy = Sequential()
    legacy.add(layers.Dense(3, input_dim=5))
    legacy.add(layers.Dense(1))
    assert legacy.output_shape == (None, 1)
    legacy.pop()
    assert len(legacy.layers) == 1 and legacy.output_shape == (None, 3)


def test_functional_graph_multi_io_and_shared_layers():
    model = _functional()
    assert [l.name for l in model.layers] == ["a", "b", "proj", "shared", "concatenate", "op_layer", "out", "aux"] or "shared" in [l.name for l in model.layers]
    outs = model.predict([rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")], verbose=0)
    assert isinstance(outs, list) and outs[0].shape == (6, 2) and outs[1].shape == (6, 1)
    np.testing.assert_allclose(outs[0].sum(1), 1.0, rtol=1e-5)
    assert model.get_layer("shared") is model.get_layer(index=[l.name for l in model.layers].index("shared"))
    with pytest.raises(ValueError):
        model.get_layer("nope")
    # Dict inputs by input name.
    d = model({"a": np.ones((2, 4), "float32"), "b": np.ones((2, 3), "float32")})
    assert d[0].shape == (2, 2)


def test_nested_models_as_layers():
    inner = Sequential([layers.Dense(3, activation="tanh")], name="inner")
    x = rkeras.Input((5,))
    model = Model(x, layers.Dense(1)(inner(x)))
    assert model(np.ones((2, 5), "float32")).shape == (2, 1)
    assert len(model.trainable_weights) == 4


def test_config_and_json_round_trips_give_the_same_function():
    for model in (Sequential([rkeras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.2), layers.Dense(2)]), _functional()):
        config = model.get_config()
        clone = type(model).from_config(config)
        assert clone.get_config() == config
        clone.set_weights(model.get_weights())
        xs = [np.ones((2, 4), "float32"), np.ones((2, 3), "float32")] if len(model.inputs) == 2 else np.ones((2, 4), "float32")
        for a, b in zip(rkeras.tree.flatten(model.predict(xs, verbose=0)), rkeras.tree.flatten(clone.predict(xs, verbose=0))):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        text = model.to_json()
        assert json.loads(text)["class_name"] in ("Sequential", "Functional")
        again = rkeras.models.model_from_json(text)
        assert [l.name for l in again.layers] == [l.name for l in model.layers]


def test_functional_from_keras2_style_config():
    config = {
        "name": "m",
        "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "in"}, "name": "in", "inbound_nodes": []},
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "linear", "use_bias": True}, "name": "d", "inbound_nodes": [[["in", 0, 0, {}]]]},
        ],
        "input_layers": [["in", 0, 0]],
        "output_layers": [["d", 0, 0]],
    }
    model = rkeras.models.Model.from_config(config)
    assert model(np.ones((1, 3), "float32")).shape == (1, 2)


def test_subclassed_model_tracks_layers_in_attributes_lists_and_dicts():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4, activation="relu"), layers.Dense(4, activation="relu")]
            self.heads = {"out": layers.Dense(1)}

        def call(self, x, training=False):
            for block in self.blocks:
                x = block(x)
            return self.heads["out"](x)

    net = Net()
    assert net(np.ones((2, 3), "float32")).shape == (2, 1)
    assert len(net.trainable_weights) == 6 and net.count_params() == 3 * 4 + 4 + 4 * 4 + 4 + 4 + 1


def test_summary_matches_keras_layout(capsys):
    model = Sequential([rkeras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dense(2)], name="seq")
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "seq"' in out
    assert "dense (Dense)" in out and "(None, 16)" in out and "144" in out
    assert "Total params: 178 (712.00 B)" in out
    assert "Trainable params: 178 (712.00 B)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
    lines = []
    model.summary(print_fn=lines.append)
    assert any("dense_1 (Dense)" in line for line in "\n".join(lines).splitlines())


def test_weights_file_round_trip_with_optimizer(tmp_path):
    model = Sequential([rkeras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    import h5py

    with h5py.File(path) as f:
        assert f["layers/dense/vars"].attrs["name"] == "dense"
        assert f["layers/dense/vars/0"].shape == (4, 3)
        assert f["optimizer/vars/0"][()] == 1  # iteration
        assert len(f["optimizer/vars"]) == 2 + 2 * 4
    other = Sequential([rkeras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    other.compile(optimizer="adam", loss="mse")
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert int(other.optimizer.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(tmp_path / "m.h5")
    mismatched = Sequential([rkeras.Input((4,)), layers.Dense(5), layers.Dense(1)])
    with pytest.raises(ValueError):
        mismatched.load_weights(path)


def test_bad_model_inputs_name_the_layer_and_shapes():
    model = Sequential([rkeras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"4|expected"):
        model.predict(np.ones((3, 5), "float32"), verbose=0)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="sample|size|cardinality"):
        model.fit(np.ones((10, 4), "float32"), np.ones((9, 2), "float32"), verbose=0)
    with pytest.raises((ValueError, TypeError)):
        model.fit(np.array([["a", "b", "c", "d"]]), np.ones((1, 2), "float32"), verbose=0)
    with pytest.raises(ValueError, match="loss"):
        model.compile(loss="mse_typo")
    with pytest.raises(ValueError, match="optimizer"):
        model.compile(loss="mse", optimizer="sgdd")
    with pytest.raises(ValueError, match="metric"):
        model.compile(loss="mse", metrics=["acc_typo"])


def test_subclassed_model_auto_config_keeps_the_arguments():
    """Plain constructor arguments of a model without get_config are its config (Keras's
    auto-config); unlike Keras 3.15, which records only the defaults, the values passed."""

    class Net(Model):
        def __init__(self, units=2, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units, activation=activation)

        def call(self, x):
            return self.dense(x)

    net = Net(3, activation="tanh", name="net")
    config = net.get_config()
    assert {k: config[k] for k in ("name", "units", "activation", "trainable")} == {"name": "net", "units": 3, "activation": "tanh", "trainable": True}
    revived = Net.from_config(config)
    assert revived.name == "net" and revived(np.ones((1, 4), "float32")).shape == (1, 3) and revived.dense.activation is rkeras.activations.tanh
    rebuilt = rkeras.models.model_from_json(net.to_json(), custom_objects={"Net": Net})
    assert isinstance(rebuilt, Net) and rebuilt.get_config() == config


def test_model_subclass_built_from_inputs_and_outputs_is_functional():
    """`class CustomModel(keras.Model)` called as `CustomModel(inputs, outputs)` (Keras's
    customize-fit pattern) is a functional model of that class, and revives as one."""
    from rkeras.models import Functional

    class CustomModel(Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = rkeras.Input((4,))
    model = CustomModel(inputs, layers.Dense(2)(inputs))
    assert isinstance(model, CustomModel) and isinstance(model, Functional) and type(model).__name__ == "CustomModel"
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Dense"]
    revived = CustomModel.from_config(model.get_config())
    assert isinstance(revived, CustomModel) and isinstance(revived, Functional)
    x = np.ones((3, 4), "float32")
    revived.set_weights(model.get_weights())
    np.testing.assert_array_equal(revived.predict(x, verbose=0), model.predict(x, verbose=0))
