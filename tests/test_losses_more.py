"""MAPE, MSLE, cosine similarity, Huber, log-cosh, KL divergence, Poisson and the hinge losses:
values against real Keras 3 with and without sample weights and across reductions (fixtures:
tests/fixtures/make_loss_fixtures.py), gradients against finite differences in float64, names,
configs and use in compile."""

import os
import sys

import numpy as np
import pytest

import rkeras
from rkeras import losses
from opcheck import finite_difference_check

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from loss_cases import CASES  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_loss_reference.npz"))


@pytest.mark.parametrize("name", list(CASES))
def test_values_match_keras(name):
    cls, kwargs, _ = CASES[name]
    loss = getattr(losses, cls)(**kwargs)
    y_true, y_pred, sw = REF[f"{name}_true"], REF[f"{name}_pred"], REF[f"{name}_sw"]
    np.testing.assert_allclose(np.asarray(loss(y_true, y_pred)), REF[f"{name}_value"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(loss(y_true, y_pred, sample_weight=sw)), REF[f"{name}_weighted"], rtol=1e-5, atol=1e-6)
    revived = type(loss).from_config(loss.get_config())
    assert revived.get_config() == loss.get_config()


@pytest.mark.parametrize("fn", [losses.mean_absolute_percentage_error, losses.mean_squared_logarithmic_error, losses.cosine_similarity, losses.huber, losses.log_cosh, losses.kl_divergence, losses.poisson, losses.hinge, losses.squared_hinge, losses.categorical_hinge])
def test_gradients_match_finite_differences(fn):
    rng = np.random.default_rng(5)
    y_true = rng.uniform(0.2, 0.9, size=(3, 4))
    if fn in (losses.hinge, losses.squared_hinge):
        y_true = np.where(y_true > 0.5, 1.0, -1.0)
    if fn is losses.categorical_hinge:
        y_true = np.eye(4)[[0, 2, 3]]
    y_pred = rng.uniform(0.3, 0.8, size=(3, 4)) if fn in (losses.kl_divergence, losses.poisson, losses.mean_squared_logarithmic_error) else rng.normal(size=(3, 4))
    finite_difference_check(lambda p: fn(y_true, p), [y_pred])


@pytest.mark.parametrize("name", ["mape", "msle", "kld", "logcosh", "huber", "poisson", "hinge", "squared_hinge", "categorical_hinge", "MeanAbsolutePercentageError", "Huber"])
def test_usable_by_name_in_compile(name):
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(32, 3)).astype("float32")
    y = np.abs(x @ np.array([[0.5], [0.2], [0.3]], "float32"))
    if "hinge" in name.lower():
        y = np.where(x[:, :1] > 1.0, 1.0, 0.0).astype("float32")
    activation = {"msle": "softplus", "poisson": "softplus", "kld": "sigmoid"}.get(name)
    if name == "kld":
        y = y / 2  # a probability-like target inside (0, 1), where the clipped KL has a gradient
    model = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(1, activation=activation)])
    model.compile(optimizer=rkeras.optimizers.Adam(0.05), loss=name)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_unknown_names_and_arguments_are_errors():
    with pytest.raises(ValueError, match="loss identifier"):
        losses.get("hubber")
    with pytest.raises(TypeError, match="delta2"):
        losses.Huber(delta2=1.0)
    with pytest.raises(ValueError, match="reduction"):
        losses.LogCosh(reduction="average")
