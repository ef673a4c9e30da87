"""AdamW, Adagrad, Adadelta, Adamax, Nadam and Lion: several steps on fixed gradients against
real Keras 3 (fixtures: tests/fixtures/make_optimizer_fixtures.py) and against numpy
implementations of Keras's formulas in float64; configs, lookup by name, bad arguments."""

import os
import sys

import numpy as np
import pytest

import rkeras
from rkeras import optimizers

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from optimizer_cases import CASES, STEPS  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_optimizer_reference.npz"))


@pytest.mark.parametrize("name", list(CASES))
def test_steps_match_keras(name):
    cls, kwargs = CASES[name]
    opt = getattr(optimizers, cls)(**kwargs)
    variables = [rkeras.Variable(REF["init0"]), rkeras.Variable(REF["init1"])]
    for s in range(STEPS):
        opt.apply_gradients(zip([REF[f"grad{s}_0"], REF[f"grad{s}_1"]], variables))
        for j, v in enumerate(variables):
            np.testing.assert_allclose(np.asarray(v), REF[f"{name}_step{s}_{j}"], rtol=1e-5, atol=1e-6, err_msg=f"step {s} variable {j}")


def _numpy_steps(rule, p, grads, lr=0.01, **h):
    """Keras's update rules, step by step, in float64."""
    p = p.copy()
    state = {}
    u_product = 1.0
    for t, g in enumerate(grads, start=1):
        if rule == "adagrad":
            a = state.setdefault("a", np.full_like(p, h["init"]))
            a += g * g
            p -= lr * g / np.sqrt(a + 1e-7)
        elif rule == "adadelta":
            ag, ad = state.setdefault("ag", np.zeros_like(p)), state.setdefault("ad", np.zeros_like(p))
            ag[:] = h["rho"] * ag + (1 - h["rho"]) * g * g
            delta = -np.sqrt(ad + 1e-7) * g / np.sqrt(ag + 1e-7)
            ad[:] = h["rho"] * ad + (1 - h["rho"]) * delta * delta
            p += lr * delta
        elif rule == "adamax":
            m, u = state.setdefault("m", np.zeros_like(p)), state.setdefault("u", np.zeros_like(p))
            m += (g - m) * 0.1
            u[:] = np.maximum(0.999 * u, np.abs(g))
            p -= lr * m / ((1 - 0.9**t) * (u + 1e-7))
        elif rule == "nadam":
            m, v = state.setdefault("m", np.zeros_like(p)), state.setdefault("v", np.zeros_like(p))
            u_t, u_next = 0.9 * (1 - 0.5 * 0.96**t), 0.9 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product *= u_t
            m += (g - m) * 0.1
            v += (g * g - v) * 0.001
            m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
            p -= lr * m_hat / (np.sqrt(v / (1 - 0.999**t)) + 1e-7)
        elif rule == "lion":
            m = state.setdefault("m", np.zeros_like(p))
            p -= lr * np.sign(m * h["beta_1"] + g * (1 - h["beta_1"]))
            m[:] = m * 0.99 + g * 0.01
    return p


@pytest.mark.parametrize("cls,rule,h", [(optimizers.Adagrad, "adagrad", {"init": 0.3}), (optimizers.Adadelta, "adadelta", {"rho": 0.8}), (optimizers.Adamax, "adamax", {}), (optimizers.Nadam, "nadam", {}), (optimizers.Lion, "lion", {"beta_1": 0.7})])
def test_float64_steps_match_the_formulas(cls, rule, h):
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(5, 3))
    grads = [rng.normal(size=(5, 3)) for _ in range(5)]
    kwargs = {"initial_accumulator_value": h["init"]} if rule == "adagrad" else {"rho": h["rho"]} if rule == "adadelta" else {"beta_1": h["beta_1"]} if rule == "lion" else {}
    # 2⁻⁶ is exact in the float32 learning-rate variable; Nadam's schedule product is float32
    # as in Keras, hence the 1e-6 tolerance (a wrong formula is off by orders more).
    opt = cls(learning_rate=2**-6, **kwargs)
    var = rkeras.Variable(p0)
    for g in grads:
        opt.apply_gradients([(g, var)])
    np.testing.assert_allclose(np.asarray(var), _numpy_steps(rule, p0, grads, lr=2**-6, **h), rtol=1e-6, atol=1e-9)


def test_adamw_is_adam_with_decoupled_weight_decay():
    rng = np.random.default_rng(1)
    p0, g = rng.normal(size=(4,)), rng.normal(size=(4,))
    lr = 2**-6  # exact in float32
    a, b = rkeras.Variable(p0), rkeras.Variable(p0 * (1 - 0.1 * lr))
    optimizers.AdamW(learning_rate=lr, weight_decay=0.1).apply_gradients([(g, a)])
    optimizers.Adam(learning_rate=lr).apply_gradients([(g, b)])
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9)


@pytest.mark.parametrize("name", ["adamw", "adagrad", "adadelta", "adamax", "nadam", "lion", "AdamW", "Nadam"])
def test_lookup_by_name_config_round_trip_and_training(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name.lower()
    revived = type(opt).from_config(opt.get_config())
    assert revived.get_config() == opt.get_config()
    rkeras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(1)])
    model.compile(optimizer=name, loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_nadam_state_is_an_optimizer_variable():
    opt = optimizers.Nadam()
    var = rkeras.Variable(np.ones(3, "float32"))
    opt.apply_gradients([(np.ones(3, "float32"), var)])
    names = [v.name for v in opt.variables]
    assert names[-1] == "u_product" and abs(float(opt.variables[-1].numpy()) - 0.9 * (1 - 0.5 * 0.96)) < 1e-7


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adagrad(learning_rate=-1.0)
    with pytest.raises(ValueError, match="optimizer identifier"):
        optimizers.get("adamx")
