"""The lean inference path of Sequential and functional models (models/inference_plan.py): it
must give exactly what the generic `Layer.__call__` path gives, and step aside whenever it could
not (user layers, masks, other shapes, training calls)."""

import numpy as np
import pytest

import rkeras as keras
from rkeras._core import NativeChain
from rkeras.layers.layer import Layer
from rkeras.models.inference_plan import inference_plan

L = keras.layers


def _generic(model, x):
    """The model run through the generic per-layer path."""
    return Layer.__call__(model, x, training=False)


def _same(a, b):
    for u, v in zip(keras.tree.flatten(a), keras.tree.flatten(b)):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def _models():
    keras.utils.set_random_seed(3)
    mlp = keras.Sequential([keras.Input((12,)), L.Dense(16, activation="relu"), L.Dropout(0.5), L.Dense(8, activation="gelu"), L.Dense(3, activation="softmax")])
    cnn = keras.Sequential([keras.Input((10, 10, 2)), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(2), L.Flatten(), L.Dense(5)])
    inputs = keras.Input((6, 4))
    a = L.LSTM(5, return_sequences=True)(inputs)
    b = L.GRU(5, return_sequences=True)(inputs)
    merged = L.Concatenate()([a, L.Add()([a, b])])
    outputs = [L.Dense(2, name="first")(L.GlobalAveragePooling1D()(merged)), L.Dense(1, name="second")(L.Flatten()(merged))]
    functional = keras.Model(inputs, outputs)
    nested = keras.Sequential([keras.Input((12,)), keras.Sequential([L.Dense(7), L.ReLU()]), L.Dense(2)])
    return {"mlp": (mlp, (4, 12)), "cnn": (cnn, (3, 10, 10, 2)), "functional": (functional, (2, 6, 4)), "nested": (nested, (5, 12))}


@pytest.mark.parametrize("name", ["mlp", "cnn", "functional", "nested"])
def test_plan_gives_the_generic_result(name):
    model, shape = _models()[name]
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    assert inference_plan(model) is not None
    expected = _generic(model, x)
    _same(model(x), expected)
    _same(model(x, training=False), expected)
    _same(model.predict_on_batch(x), expected)
    _same(model.predict(x, verbose=0), expected)
    # float64 input is cast to the model's dtype, as the generic path does.
    _same(model.predict_on_batch(x.astype("float64")), expected)


def test_training_calls_and_other_shapes_take_the_generic_path():
    model, _ = _models()["mlp"]
    x = np.ones((64, 12), "float32")
    # Dropout(0.5) is active in training: outputs differ from inference.
    assert not np.allclose(np.asarray(model(x, training=True)), np.asarray(model(x)))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 12\), found shape=\(2, 11\)"):
        model.predict_on_batch(np.ones((2, 11), "float32"))


def test_masks_and_user_layers_keep_the_generic_path():
    masked = keras.Sequential([keras.Input((None,), dtype="int64"), L.Embedding(10, 3, mask_zero=True), L.LSTM(4)])
    assert inference_plan(masked) is None
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]])
    short = np.array([[1, 2]])
    # Padding is masked out: the result does not depend on it (only the generic path masks).
    np.testing.assert_allclose(np.asarray(masked(x))[:1], np.asarray(masked(short)), rtol=1e-6)

    class Double(Layer):
        def call(self, inputs):
            return inputs * 2.0

    custom = keras.Sequential([keras.Input((3,)), Double(), L.Dense(2)])
    assert inference_plan(custom) is None
    regularized = keras.Sequential([keras.Input((3,)), L.Dense(2, activity_regularizer="l2")])
    assert inference_plan(regularized) is None


def test_plan_follows_weights_and_structure_changes():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3)])
    x = np.ones((2, 4), "float32")
    first = model.predict_on_batch(x)
    model.layers[0].set_weights([np.full((4, 3), 0.5, "float32"), np.zeros(3, "float32")])
    np.testing.assert_allclose(model.predict_on_batch(x), np.full((2, 3), 2.0))
    assert not np.allclose(first, 2.0)
    model.add(L.Dense(1, kernel_initializer="ones"))
    np.testing.assert_allclose(model.predict_on_batch(x), np.full((2, 1), 6.0))
    model.pop()
    np.testing.assert_allclose(model.predict_on_batch(x), np.full((2, 3), 2.0))


def test_models_rebuilt_from_json_keep_the_lean_path():
    """Keras (and rkeras) record `mask=None` on nodes of layers taking a mask; the rebuilt
    model's nodes do not carry it, so its inference calls still take the plan."""
    import json

    import rkeras
    from rkeras.models.inference_plan import inference_plan

    i = rkeras.Input((4,))
    model = rkeras.Model(i, rkeras.layers.Softmax()(rkeras.layers.Dense(3)(i)))
    config = json.loads(model.to_json())
    assert config["config"]["layers"][2]["inbound_nodes"][0]["kwargs"] == {"mask": None}
    rebuilt = rkeras.models.model_from_json(model.to_json())
    assert inference_plan(rebuilt) is not None
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(rebuilt(x)), np.asarray(model(x)))


def _segments(model):
    """The plan's chain as (kind, length) pairs: ("native", layers in one NativeChain) or ("python", 1)."""
    out = []
    for fn in inference_plan(model).chain:
        owner = getattr(fn, "__self__", None)
        out.append(("native", len(owner)) if isinstance(owner, NativeChain) else ("python", 1))
    return out


def test_consecutive_native_layers_run_as_one_rust_call():
    keras.utils.set_random_seed(4)
    cnn = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")])
    assert _segments(cnn) == [("native", 7)]
    # A layer without a native step splits the chain; gelu is not a fused activation.
    mixed, _ = _models()["cnn"]
    assert _segments(mixed) == [("native", 1), ("python", 1), ("native", 3)]
    mlp, _ = _models()["mlp"]
    assert _segments(mlp) == [("native", 1), ("python", 1), ("python", 1), ("native", 1)]
    for model, shape in ((cnn, (1, 28, 28, 1)), (cnn, (5, 28, 28, 1)), (mixed, (3, 10, 10, 2)), (mlp, (4, 12))):
        x = np.random.default_rng(1).normal(size=shape).astype("float32")
        _same(model.predict_on_batch(x), _generic(model, x))


@pytest.mark.parametrize(
    "layers, shape",
    [
        ([L.Conv2D(6, 3, strides=2, padding="same", activation="relu"), L.AveragePooling2D(3, strides=2, padding="same"), L.Conv2D(4, (2, 3), dilation_rate=2, activation="tanh")], (2, 17, 20, 3)),
        ([L.Conv2D(8, 3, groups=2, padding="same", activation="sigmoid"), L.MaxPooling2D((2, 3), strides=(1, 2), padding="same"), L.Flatten(), L.Dense(3, activation="softmax")], (3, 9, 11, 4)),
        ([L.Conv1D(5, 3, padding="causal", dilation_rate=2, activation="relu"), L.MaxPooling1D(2), L.Conv1D(3, 2, use_bias=False, activation="linear"), L.AveragePooling1D(2, padding="same")], (2, 17, 3)),
        ([L.Conv3D(3, 2, padding="same", activation="relu"), L.MaxPooling3D(2), L.Flatten(), L.Dense(2, use_bias=False)], (2, 5, 6, 4, 2)),
    ],
)
def test_native_chains_match_the_layer_by_layer_path(layers, shape):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input(shape[1:])] + layers)
    assert _segments(model) == [("native", len(layers))]
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    _same(model.predict_on_batch(x), _generic(model, x))
    # f64 models take the same chain in f64.
    model64 = keras.Sequential([keras.Input(shape[1:], dtype="float64")] + [type(l).from_config({**l.get_config(), "dtype": "float64"}) for l in layers])
    model64.set_weights([w.astype("float64") for w in model.get_weights()])
    x64 = x.astype("float64")
    out64 = model64.predict_on_batch(x64)
    assert out64.dtype == np.float64
    _same(out64, _generic(model64, x64))


def test_native_chain_records_on_a_gradient_tape():
    import rkeras

    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(3, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(4, activation="softmax")])
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 1)).astype("float32")
    grads = []
    for run in (lambda: model(x), lambda: _generic(model, x)):
        with rkeras.GradientTape() as tape:
            loss = rkeras.ops.sum(run() * np.arange(4, dtype="float32"))
        grads.append(tape.gradient(loss, model.trainable_variables))
    for native, generic in zip(*grads):
        assert native is not None
        np.testing.assert_array_equal(np.asarray(native), np.asarray(generic))


def test_native_chain_reads_assigned_weights_and_reports_bad_input():
    model = keras.Sequential([keras.Input((4, 4, 1)), L.Conv2D(1, 2, activation="relu", kernel_initializer="zeros"), L.Flatten()])
    x = np.ones((1, 4, 4, 1), "float32")
    np.testing.assert_array_equal(model.predict_on_batch(x), np.zeros((1, 9)))
    model.layers[0].kernel.assign(np.full((2, 2, 1, 1), 0.5, "float32"))
    np.testing.assert_array_equal(model.predict_on_batch(x), np.full((1, 9), 2.0))
    chain = inference_plan(model).chain[0].__self__
    with pytest.raises(ValueError, match="conv"):
        chain.run(np.ones((4, 4), "float32"))
    with pytest.raises(TypeError, match="unknown step kind"):
        NativeChain([("softmax",)])
    with pytest.raises(ValueError, match="padding"):
        NativeChain([("pool", [2], [2], "full", "max")])


def test_native_chain_takes_strided_arrays():
    """Arrays go to a leading NativeChain as they are: strided and Fortran-ordered ones too."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(3, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(4)])
    assert inference_plan(model).array_in
    x = np.random.default_rng(4).normal(size=(4, 8, 8, 1)).astype("float32")
    for view in (x[::2], x[:, ::-1], np.asfortranarray(x), x[1:3]):
        _same(model.predict_on_batch(view), _generic(model, np.ascontiguousarray(view)))
