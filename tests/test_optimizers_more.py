"""AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, Adafactor and Lamb: several steps on
fixed gradients against real Keras 3 (fixtures: tests/fixtures/make_optimizer_fixtures.py), with
the optimizer variables' layout, and against numpy implementations of Keras's formulas in
float64; configs, lookup by name, training, saved optimizer state, bad arguments."""

import json
import os
import re
import sys

import h5py
import numpy as np
import pytest

import rkeras
from rkeras import optimizers

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from optimizer_cases import CASES, NAMES, STATE_CLASSES, STEPS, build  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_optimizer_reference.npz"))


@pytest.mark.parametrize("name", list(CASES))
def test_steps_and_optimizer_variables_match_keras(name):
    opt = build(optimizers, name)
    variables = [rkeras.Variable(REF[f"init{j}"], name=n) for j, n in enumerate(NAMES)]
    for s in range(STEPS):
        opt.apply_gradients(zip([REF[f"grad{s}_{j}"] for j in range(len(NAMES))], variables))
        for j, v in enumerate(variables):
            np.testing.assert_allclose(np.asarray(v), REF[f"{name}_step{s}_{j}"], rtol=1e-5, atol=1e-6, err_msg=f"step {s} variable {j}")
    # Same variables in the same order (the layout of a saved optimizer), same values.
    names = [str(n) for n in REF[f"{name}_optimizer_names"]]
    assert len(opt.variables) == len(names)
    for k, (v, keras_name) in enumerate(zip(opt.variables, names)):
        if not re.fullmatch(r"variable(_\d+)?", keras_name):  # Keras auto-names Nadam's u_product
            assert v.name == keras_name
        expected = REF[f"{name}_optimizer_{k}"]
        assert tuple(v.shape) == expected.shape, v.name
        np.testing.assert_allclose(np.asarray(v, dtype="float64"), expected, rtol=1e-5, atol=1e-6, err_msg=v.name)


@pytest.mark.parametrize("key", [k for k in REF.files if k.startswith("config_")])
def test_default_configs_match_keras(key):
    assert getattr(optimizers, key[len("config_"):])(name="reference").get_config() == json.loads(str(REF[key]))


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


def _ftrl(p, grads, lr, power=-0.5, init=0.1, l1=0.0, l2=0.0, shrinkage=0.0, beta=0.0, wd=0.0):
    p, n, z = p.copy(), np.full_like(p, init), np.zeros_like(p)
    for g in grads:
        p = p - p * wd * lr
        n_new = n + g * g
        z = z + g + 2 * shrinkage * p - (n_new**-power - n**-power) / lr * p
        p = (np.clip(z, -l1, l1) - z) / (n_new**-power / lr + 2 * (l2 + beta / (2 * lr)))
        n = n_new
    return p


def _adafactor(p, grads, lr, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0, wd=0.0):
    p = p.copy()
    r, c, v = np.zeros(p.shape[:-1]), np.zeros(p.shape[:-2] + p.shape[-1:]), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        p = p - p * wd * lr
        rho, beta = min(lr, 1 / np.sqrt(t)), 1 - t**decay
        q = g * g + eps1
        if p.ndim >= 2:
            r = beta * r + (1 - beta) * q.mean(axis=-1)
            c = beta * c + (1 - beta) * q.mean(axis=-2)
            v = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = beta * v + (1 - beta) * q
        u = g / np.sqrt(v)
        p = p - max(eps2, np.sqrt(np.mean(p * p))) * rho * u / max(1.0, np.sqrt(np.mean(u * u)) / clip)
    return p


def _lamb(p, grads, lr, b1=0.9, b2=0.999, eps=1e-7, wd=0.0):
    p, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        p = p - p * wd * lr
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        u = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        w_norm, u_norm = np.linalg.norm(p), np.linalg.norm(u)
        p = p - (w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0) * lr * u
    return p


# Learning rates exact in float32 (Keras keeps the rate in a float32 variable).
LAYERWISE = [
    (optimizers.Ftrl, {"learning_rate": 2**-3}, lambda p, g: _ftrl(p, g, 2**-3)),
    (
        optimizers.Ftrl,
        {"learning_rate": 2**-4, "learning_rate_power": -0.6, "initial_accumulator_value": 0.3, "l1_regularization_strength": 0.02, "l2_regularization_strength": 0.05, "l2_shrinkage_regularization_strength": 0.1, "beta": 0.2, "weight_decay": 0.5},
        lambda p, g: _ftrl(p, g, 2**-4, power=-0.6, init=0.3, l1=0.02, l2=0.05, shrinkage=0.1, beta=0.2, wd=0.5),
    ),
    (optimizers.Adafactor, {"learning_rate": 0.25}, lambda p, g: _adafactor(p, g, 0.25)),
    (
        optimizers.Adafactor,
        {"learning_rate": 0.5, "beta_2_decay": -0.6, "epsilon_2": 0.1, "clip_threshold": 0.75, "weight_decay": 0.25},
        lambda p, g: _adafactor(p, g, 0.5, decay=-0.6, eps2=0.1, clip=0.75, wd=0.25),
    ),
    (optimizers.Lamb, {"learning_rate": 2**-6}, lambda p, g: _lamb(p, g, 2**-6)),
    (optimizers.Lamb, {"learning_rate": 2**-5, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-5, "weight_decay": 0.5}, lambda p, g: _lamb(p, g, 2**-5, b1=0.8, b2=0.95, eps=1e-5, wd=0.5)),
]


@pytest.mark.parametrize("cls,kwargs,reference", LAYERWISE)
def test_float64_ftrl_adafactor_lamb_match_the_formulas(cls, kwargs, reference):
    # A scalar, a vector, a matrix big enough for several row blocks, many small matrices.
    rng = np.random.default_rng(5)
    shapes = [(), (7,), (70, 300), (40, 3, 5)]
    params = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for _ in range(4)] for s in shapes]
    variables = [rkeras.Variable(p) for p in params]
    opt = cls(**kwargs)
    for step in range(4):
        opt.apply([g[step] for g in grads], variables)
    for v, p, g in zip(variables, params, grads):
        np.testing.assert_allclose(np.asarray(v), reference(p, g), rtol=1e-10, atol=1e-12, err_msg=str(p.shape))


def test_adamw_is_adam_with_decoupled_weight_decay():
    rng = np.random.default_rng(1)
    p0, g = rng.normal(size=(4,)), rng.normal(size=(4,))
    lr = 2**-6  # exact in float32
    a, b = rkeras.Variable(p0), rkeras.Variable(p0 * (1 - 0.1 * lr))
    optimizers.AdamW(learning_rate=lr, weight_decay=0.1).apply_gradients([(g, a)])
    optimizers.Adam(learning_rate=lr).apply_gradients([(g, b)])
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9)


@pytest.mark.parametrize("name", ["adamw", "adagrad", "adadelta", "adamax", "nadam", "lion", "ftrl", "adafactor", "lamb", "AdamW", "Nadam", "Ftrl", "Adafactor", "Lamb"])
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


@pytest.mark.parametrize("name", ["ftrl", "adafactor", "lamb"])
def test_saved_optimizer_state_is_restored(name, tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")

    def model():
        # Slot names come from the weights' paths, which start with the model's name: the same
        # name for both models (as when a script saves, and another loads).
        rkeras.backend.clear_session()
        rkeras.utils.set_random_seed(1)
        m = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(4, name="hidden"), rkeras.layers.Dense(1, name="out")])
        m.compile(optimizer=optimizers.get(name), loss="mse")
        return m

    trained = model()
    trained.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    path = str(tmp_path / "model.weights.h5")
    trained.save_weights(path)
    saved = trained.optimizer.variables
    with h5py.File(path, "r") as f:
        stored = f["optimizer/vars"]
        assert [stored[str(i)].shape for i in range(len(stored))] == [tuple(v.shape) for v in saved]
    restored = model()
    restored.load_weights(path)
    assert [v.name for v in restored.optimizer.variables] == [v.name for v in saved]
    for a, b in zip(restored.optimizer.variables, saved):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.name)
    # Training on from the restored state goes exactly where the original goes.
    for m in (trained, restored):
        m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(restored.weights, trained.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("cls", STATE_CLASSES)
def test_loads_optimizer_state_saved_by_keras(cls):
    model = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(4, name="hidden"), rkeras.layers.Dense(1, name="out")])
    model.compile(optimizer=getattr(optimizers, cls)(learning_rate=0.05), loss="mse")
    path = os.path.join(FIXTURES, f"keras_{cls.lower()}_state.weights.h5")
    model.load_weights(path)
    with h5py.File(path, "r") as f:
        stored = f["optimizer/vars"]
        for i, v in enumerate(model.optimizer.variables):
            np.testing.assert_array_equal(np.asarray(v), stored[str(i)][()], err_msg=v.name)
    assert int(model.optimizer.iterations.numpy()) == 4
    # From Keras's saved state, one more batch lands where Keras's next step landed.
    model.train_on_batch(REF["state_x"][:8], REF["state_y"][:8])
    for k, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, REF[f"state_{cls}_after_{k}"], rtol=1e-5, atol=1e-6)


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


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"initial_accumulator_value": -0.1}, "`initial_accumulator_value` needs to be positive or zero. Received: initial_accumulator_value=-0.1"),
        ({"learning_rate_power": 0.5}, "`learning_rate_power` needs to be negative or zero. Received: learning_rate_power=0.5"),
        ({"l1_regularization_strength": -1.0}, "l1_regularization_strength=-1.0"),
        ({"l2_regularization_strength": -1.0}, "l2_regularization_strength=-1.0"),
        ({"l2_shrinkage_regularization_strength": -1.0}, "l2_shrinkage_regularization_strength=-1.0"),
    ],
)
def test_ftrl_validates_its_arguments_as_keras(kwargs, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        optimizers.Ftrl(**kwargs)


@pytest.mark.parametrize("cls", [optimizers.Ftrl, optimizers.Adafactor, optimizers.Lamb])
def test_base_arguments_are_validated(cls):
    with pytest.raises(ValueError, match="`learning_rate` cannot be negative. Received: learning_rate=-0.01"):
        cls(learning_rate=-0.01)
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        cls(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="`gradient_accumulation_steps` must be an integer >= 2"):
        cls(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="`ema_overwrite_frequency` must be an integer >= 1 or None"):
        cls(use_ema=True, ema_overwrite_frequency=0.5)
    with pytest.raises(ValueError, match="Argument\\(s\\) not recognized"):
        cls(beta1=0.9)
