"""Per-layer contract (shapes, dtypes, weights, config, training) and golden values."""

import numpy as np
import pytest

import rkeras
from rkeras import layers
from layercheck import run_layer_test

CONTRACT = [
    (layers.Dense, {"units": 4}, (2, 3), (2, 4), 2),
    (layers.Dense, {"units": 4, "activation": "relu", "use_bias": False}, (2, 5, 3), (2, 5, 4), 1),
    (layers.Dense, {"units": 2, "activation": "gelu", "kernel_regularizer": "l2"}, (3, 3), (3, 2), 2),
    (layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0),
    (layers.Dropout, {"rate": 0.5, "seed": 1}, (2, 3), (2, 3), 0),
    (layers.Flatten, {}, (2, 3, 4), (2, 12), 0),
    (layers.Reshape, {"target_shape": (2, -1)}, (2, 3, 4), (2, 2, 6), 0),
    (layers.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0),
    (layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), 0),
    (layers.Identity, {}, (2, 3), (2, 3), 0),
    (layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 3), (2, 3), 0),
    (layers.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (2, 3), (2, 3), 0),
    (layers.LeakyReLU, {"negative_slope": 0.2}, (2, 3), (2, 3), 0),
    (layers.PReLU, {"shared_axes": [1]}, (2, 3, 4), (2, 3, 4), 1),
    (layers.ELU, {"alpha": 0.5}, (2, 3), (2, 3), 0),
    (layers.Softmax, {"axis": 1}, (2, 3, 4), (2, 3, 4), 0),
    (layers.Add, {}, [(2, 3), (2, 3)], (2, 3), 0),
    (layers.Subtract, {}, [(2, 3), (2, 3)], (2, 3), 0),
    (layers.Multiply, {}, [(2, 3), (2, 3), (2, 3)], (2, 3), 0),
    (layers.Average, {}, [(2, 3), (2, 3)], (2, 3), 0),
    (layers.Maximum, {}, [(2, 3), (2, 3)], (2, 3), 0),
    (layers.Minimum, {}, [(2, 3), (2, 3)], (2, 3), 0),
    (layers.Concatenate, {"axis": -1}, [(2, 3), (2, 5)], (2, 8), 0),
    (layers.Dot, {"axes": 1}, [(2, 3), (2, 3)], (2, 1), 0),
]


@pytest.mark.parametrize("cls,kwargs,input_shape,output_shape,trainable", CONTRACT, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_layer_contract(cls, kwargs, input_shape, output_shape, trainable):
    run_layer_test(cls, kwargs, input_shape, output_shape, expected_num_trainable_weights=trainable)


def test_lambda_contract_output_shape_and_safe_mode():
    run_layer_test(layers.Lambda, {"function": rkeras.activations.relu}, (2, 3), (2, 3))
    double = layers.Lambda(lambda x: x * 2.0)
    np.testing.assert_allclose(np.asarray(double(np.ones((1, 2), "float32"))), [[2.0, 2.0]])
    with pytest.raises(ValueError, match="lambda"):
        layers.Lambda.from_config(double.get_config())
    revived = layers.Lambda.from_config(double.get_config(), safe_mode=False)
    np.testing.assert_allclose(np.asarray(revived(np.ones((1, 2), "float32"))), [[2.0, 2.0]])
    layer = layers.Lambda(lambda x: rkeras.ops.sum(x, axis=-1, keepdims=True), output_shape=(1,))
    assert layer.compute_output_shape((None, 5)) == (None, 1)


def test_dense_golden_values_and_layouts():
    layer = layers.Dense(3, kernel_initializer=rkeras.initializers.Constant(0.5), bias_initializer="ones")
    x = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_allclose(np.asarray(layer(x)), np.repeat(0.5 * x.sum(1, keepdims=True) + 1, 3, axis=1))
    assert [w.path for w in layer.weights] == ["dense/kernel", "dense/bias"]
    assert layer.kernel.shape == (4, 3) and layer.bias.shape == (3,)
    sm = layers.Dense(2, activation="softmax", kernel_initializer="ones")
    np.testing.assert_allclose(np.asarray(sm(x)), np.full((2, 2), 0.5), rtol=1e-6)
    # glorot_uniform: limit sqrt(6 / (fan_in + fan_out)).
    big = layers.Dense(300)
    big.build((None, 200))
    k = big.kernel.numpy()
    assert np.abs(k).max() <= np.sqrt(6 / 500) and k.std() == pytest.approx(np.sqrt(6 / 500) / np.sqrt(3), rel=0.05)
    assert np.all(big.bias.numpy() == 0)


def test_dense_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(-3)
    with pytest.raises(ValueError, match="Unknown activation|Could not interpret activation"):
        layers.Dense(3, activation="relux")
    layer = layers.Dense(3)
    layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="dense"):
        layer(np.ones((2, 5), "float32"))


def test_dropout_training_and_inference():
    layer = layers.Dropout(0.4, seed=3)
    x = np.ones((200, 50), "float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    y = np.asarray(layer(x, training=True))
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-6)
    rkeras.utils.set_random_seed(5)
    a = np.asarray(layers.Dropout(0.5)(x, training=True))
    rkeras.utils.set_random_seed(5)
    b = np.asarray(layers.Dropout(0.5)(x, training=True))
    np.testing.assert_array_equal(a, b)


def test_reshaping_values():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(np.asarray(layers.Flatten()(x)), x.reshape(2, 12))
    np.testing.assert_array_equal(np.asarray(layers.Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(np.asarray(layers.Permute((2, 1))(x)), x.transpose(0, 2, 1))
    v = x[:, 0]
    np.testing.assert_array_equal(np.asarray(layers.RepeatVector(2)(v)), np.stack([v, v], 1))
    with pytest.raises(ValueError):
        layers.Reshape((5, 5))(x)


def test_merge_values_and_functions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(layers.add([a, b])), a + b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.subtract([a, b])), a - b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.multiply([a, b])), a * b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.average([a, b])), (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.maximum([a, b])), np.maximum(a, b))
    np.testing.assert_allclose(np.asarray(layers.minimum([a, b])), np.minimum(a, b))
    np.testing.assert_allclose(np.asarray(layers.concatenate([a, b], axis=0)), np.concatenate([a, b], 0))
    np.testing.assert_allclose(np.asarray(layers.dot([a, b], axes=1)), (a * b).sum(1, keepdims=True), rtol=1e-5)
    an, bn = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(layers.Dot(axes=1, normalize=True)([a, b])), (an * bn).sum(1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError):
        layers.Add()([a, np.ones((3, 5), "float32")])
    # Keras 3 merges a single input (it is returned as is); Subtract takes exactly two.
    np.testing.assert_array_equal(np.asarray(layers.Add()([a])), a)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([a, a, a])


def test_activation_layer_values():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], "float32")
    np.testing.assert_allclose(np.asarray(layers.ReLU()(x)), np.maximum(x, 0))
    np.testing.assert_allclose(np.asarray(layers.ReLU(max_value=1.0)(x)), np.clip(x, 0, 1))
    np.testing.assert_allclose(np.asarray(layers.LeakyReLU()(x)), np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.ELU()(x)), np.where(x > 0, x, np.expm1(x)), rtol=1e-6)
    prelu = layers.PReLU(alpha_initializer=rkeras.initializers.Constant(0.25))
    np.testing.assert_allclose(np.asarray(prelu(x)), np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    assert prelu.weights[0].shape == (5,)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(np.asarray(layers.Softmax()(x)), e / e.sum(), rtol=1e-6)
    masked = np.asarray(layers.Softmax()(x, mask=np.array([[True, True, False, False, True]])))
    assert masked[0, 2] == pytest.approx(0.0, abs=1e-7) and masked.sum() == pytest.approx(1.0, rel=1e-6)


def test_activity_regularization_adds_a_loss():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    x = np.array([[1.0, -2.0], [3.0, 0.0]], "float32")
    layer(x)
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx((0.1 * 6 + 0.01 * 14) / 2, rel=1e-6)


def test_naming_and_clear_session():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    rkeras.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    assert layers.ReLU().name == "re_lu"


def test_layer_weights_api_and_trainable_propagation():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = [layers.Dense(2), layers.Dense(3)]
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale", trainable=False)

        def call(self, x):
            return self.inner[1](self.inner[0](x)) * self.scale

    block = Block()
    block(np.ones((1, 4), "float32"))
    assert len(block.trainable_weights) == 4 and len(block.non_trainable_weights) == 1
    assert block.count_params() == 4 * 2 + 2 + 2 * 3 + 3 + 1
    weights = block.get_weights()
    block.set_weights([np.zeros_like(w) for w in weights])
    assert all(np.all(w == 0) for w in block.get_weights())
    with pytest.raises(ValueError):
        block.set_weights(weights[:2])
    block.trainable = False
    assert block.trainable_weights == [] and not block.inner[0].trainable
