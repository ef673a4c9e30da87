"""Optimizers against numpy transcriptions of Keras 3's update rules, several steps, f32 and f64."""

import numpy as np
import pytest

import rkeras
from rkeras import optimizers


def _sgd(params, grads, steps, lr, momentum=0.0, nesterov=False):
    p = params.copy()
    m = np.zeros_like(p)
    for g in grads[:steps]:
        if momentum:
            m = momentum * m - lr * g
            p = p + (momentum * m - lr * g if nesterov else m)
        else:
            p = p - lr * g
    return p


def _adam(params, grads, steps, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    p, m, v, vh = params.copy(), np.zeros_like(params), np.zeros_like(params), np.zeros_like(params)
    for t, g in enumerate(grads[:steps], start=1):
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            vh = np.maximum(vh, v)
            p = p - alpha * m / (np.sqrt(vh) + eps)
        else:
            p = p - alpha * m / (np.sqrt(v) + eps)
    return p


def _rmsprop(params, grads, steps, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    p, v, a, m = params.copy(), np.zeros_like(params), np.zeros_like(params), np.zeros_like(params)
    for g in grads[:steps]:
        v = rho * v + (1 - rho) * g * g
        if centered:
            a = rho * a + (1 - rho) * g
            den = v - a * a + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            m = momentum * m + inc
            p = p - m
        else:
            p = p - inc
    return p


def _f32(lr):
    """The learning rate as Keras stores it: a float32 variable."""
    return float(np.float32(lr))


CASES = [
    (lambda: optimizers.SGD(0.1), lambda p, g, s: _sgd(p, g, s, _f32(0.1))),
    (lambda: optimizers.SGD(0.05, momentum=0.9), lambda p, g, s: _sgd(p, g, s, _f32(0.05), 0.9)),
    (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), lambda p, g, s: _sgd(p, g, s, _f32(0.05), 0.9, True)),
    (lambda: optimizers.Adam(0.01), lambda p, g, s: _adam(p, g, s, _f32(0.01))),
    (lambda: optimizers.Adam(0.01, beta_1=0.8, amsgrad=True), lambda p, g, s: _adam(p, g, s, _f32(0.01), b1=0.8, amsgrad=True)),
    (lambda: optimizers.RMSprop(0.01), lambda p, g, s: _rmsprop(p, g, s, _f32(0.01))),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), lambda p, g, s: _rmsprop(p, g, s, _f32(0.01), momentum=0.5, centered=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make,reference", CASES)
def test_updates_follow_keras_rules(make, reference, dtype):
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4,), (70000,)]  # the last one spans several parallel pieces
    params = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for _ in range(4)] for s in shapes]
    variables = [rkeras.Variable(p.astype(dtype)) for p in params]
    opt = make()
    for step in range(4):
        opt.apply([g[step].astype(dtype) for g in grads], variables)
    tol = 1e-5 if dtype == "float32" else 1e-11
    for v, p, g in zip(variables, params, grads):
        np.testing.assert_allclose(v.numpy(), reference(p, g, 4), rtol=tol, atol=tol)
    assert int(opt.iterations.numpy()) == 4


def test_variables_are_in_keras_order_with_keras_names():
    k = rkeras.Variable(np.zeros((2, 3), "float32"), name="kernel")
    k.path = "dense/kernel"
    b = rkeras.Variable(np.zeros((3,), "float32"), name="bias")
    b.path = "dense/bias"
    opt = optimizers.Adam()
    opt.build([k, b])
    assert [v.name for v in opt.variables] == [
        "iteration", "learning_rate", "dense_kernel_momentum", "dense_kernel_velocity", "dense_bias_momentum", "dense_bias_velocity",
    ]
    rms = optimizers.RMSprop(momentum=0.9)
    rms.build([k, b])
    assert [v.name for v in rms.variables][2:] == ["dense_kernel_velocity", "dense_bias_velocity", "dense_kernel_momentum", "dense_bias_momentum"]
    assert optimizers.SGD().name == "sgd" and optimizers.SGD().name == "sgd_1"


def test_keras2_spellings_and_decay():
    with pytest.warns(DeprecationWarning):
        opt = optimizers.SGD(lr=0.1, decay=0.5)
    v = rkeras.Variable(np.zeros(1, "float32"))
    for _ in range(3):
        opt.apply([np.ones(1, "float32")], [v])
    # Keras 2: lr_t = lr / (1 + decay * iterations), iterations counted before the step.
    assert float(v.numpy()[0]) == pytest.approx(-(0.1 + 0.1 / 1.5 + 0.1 / 2.0), rel=1e-6)
    assert optimizers.Adam(epsilon=None).epsilon == 1e-7
    opt.lr = 0.5
    assert float(opt.learning_rate.numpy()) == 0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(beta1=0.9)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get("adamm")
    v = rkeras.Variable(np.zeros((2,), "float32"))
    with pytest.raises(ValueError, match="shape"):
        optimizers.SGD().apply([np.ones(3, "float32")], [v])


def test_clipping_weight_decay_constraints_and_missing_gradients():
    v = rkeras.Variable(np.ones(2, "float32"))
    optimizers.SGD(1.0, clipnorm=1.0).apply([np.array([3.0, 4.0], "float32")], [v])
    np.testing.assert_allclose(v.numpy(), [1 - 0.6, 1 - 0.8], rtol=1e-6)
    v = rkeras.Variable(np.ones(2, "float32"))
    optimizers.SGD(1.0, clipvalue=0.5).apply([np.array([3.0, -0.25], "float32")], [v])
    np.testing.assert_allclose(v.numpy(), [0.5, 1.25], rtol=1e-6)
    v = rkeras.Variable(np.full(2, 2.0, "float32"))
    optimizers.SGD(0.1, weight_decay=0.5).apply([np.zeros(2, "float32")], [v])
    np.testing.assert_allclose(v.numpy(), [2 - 2 * 0.5 * 0.1] * 2, rtol=1e-6)
    v = rkeras.Variable(np.zeros(2, "float32"))
    v.constraint = rkeras.constraints.NonNeg()
    optimizers.SGD(1.0).apply([np.array([1.0, -1.0], "float32")], [v])
    np.testing.assert_allclose(v.numpy(), [0.0, 1.0])
    a, b = rkeras.Variable(np.zeros(1, "float32")), rkeras.Variable(np.zeros(1, "float32"))
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        optimizers.SGD(1.0).apply([None, np.ones(1, "float32")], [a, b])
    assert float(a.numpy()[0]) == 0.0 and float(b.numpy()[0]) == -1.0


def test_apply_gradients_config_round_trip_and_schedule():
    opt = optimizers.Adam(learning_rate=0.002, amsgrad=True, name="my_adam")
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(0.002) and config["amsgrad"] is True
    clone = optimizers.Adam.from_config(config)
    assert clone.get_config() == config
    assert isinstance(optimizers.deserialize(optimizers.serialize(opt)), optimizers.Adam)
    sched = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    sgd = optimizers.SGD(sched)
    v = rkeras.Variable(np.zeros(1, "float32"))
    for _ in range(3):
        sgd.apply_gradients([(np.ones(1, "float32"), v)])
    assert float(v.numpy()[0]) == pytest.approx(-(0.1 + 0.05 + 0.025), rel=1e-6)


def test_update_is_in_place_when_nothing_else_holds_the_value():
    v = rkeras.Variable(np.ones(1000, "float32"))
    opt = optimizers.SGD(0.1)
    # The first update copies: the initial value borrows the numpy array's memory.
    opt.apply([np.ones(1000, "float32")], [v])
    before = v.value._data_ptr
    opt.apply([np.ones(1000, "float32")], [v])
    assert v.value._data_ptr == before
    held = v.value  # a value someone kept must not change under them
    opt.apply([np.ones(1000, "float32")], [v])
    assert float(held.numpy()[0]) == pytest.approx(0.8) and float(v.numpy()[0]) == pytest.approx(0.7)
