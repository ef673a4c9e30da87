"""MAPE, MSLE, cosine similarity, Huber, log-cosh, KL divergence, Poisson, the hinge losses, the
focal crossentropies, Dice and Tversky (and the crossentropies' axis / smoothing / ignore_class
arguments): values against real Keras 3 with and without sample weights and across reductions
(fixtures: tests/fixtures/make_loss_fixtures.py), configs against Keras's, gradients against
finite differences in float64, the new losses against numpy references (hypothesis), names,
configs and use in compile, bad input."""

import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import rkeras
from rkeras import losses, metrics
from opcheck import finite_difference_check

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from loss_cases import CASES, REDUCTIONS  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_loss_reference.npz"))
EPS = 1e-7

# Keys rkeras writes beyond Keras 3.15's configs (Keras drops these arguments from its configs).
EXTRA_CONFIG_KEYS = {"CosineSimilarity": {"axis"}, "Huber": {"delta"}, "SparseCategoricalCrossentropy": {"axis"}}


def _case(name):
    cls, kwargs, _ = CASES[name]
    return cls, kwargs, REF[f"{name}_true"], REF[f"{name}_pred"], REF[f"{name}_sw"]


def _close(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_values_match_keras(name):
    cls, kwargs, y_true, y_pred, sw = _case(name)
    loss = getattr(losses, cls)(**kwargs)
    _close(loss(y_true, y_pred), REF[f"{name}_value"])
    _close(loss(y_true, y_pred, sample_weight=sw), REF[f"{name}_weighted"])
    revived = type(loss).from_config(loss.get_config())
    assert revived.get_config() == loss.get_config()


@pytest.mark.parametrize("reduction", REDUCTIONS + (None,))
@pytest.mark.parametrize("name", list(CASES))
def test_reductions_match_keras(name, reduction):
    cls, kwargs, y_true, y_pred, sw = _case(name)
    loss = getattr(losses, cls)(**{**kwargs, "reduction": reduction})
    key = f"{name}_reduction_{reduction or 'none'}"
    _close(loss(y_true, y_pred), REF[key])
    _close(loss(y_true, y_pred, sample_weight=sw), REF[f"{key}_weighted"])


@pytest.mark.parametrize("name", list(CASES))
def test_configs_match_keras(name):
    cls, kwargs, y_true, y_pred, _ = _case(name)
    keras_config = json.loads(str(REF[f"{name}_config"]))
    loss = getattr(losses, cls)(**kwargs)
    config = json.loads(json.dumps(loss.get_config()))  # tuples become lists, as in a saved file
    assert set(config) - set(keras_config) == EXTRA_CONFIG_KEYS.get(cls, set())
    assert {k: config[k] for k in keras_config} == keras_config
    # Our config after JSON builds the same loss; so does Keras's (from a Keras file), unless the
    # case sets an argument Keras's config drops.
    lossless = not EXTRA_CONFIG_KEYS.get(cls, set()) & set(kwargs)
    for cfg in (config, keras_config) if lossless else (config,):
        _close(getattr(losses, cls).from_config(cfg)(y_true, y_pred), REF[f"{name}_value"])


# ----- gradients ------------------------------------------------------------------------------
_rng = np.random.default_rng(5)
_BIN = _rng.integers(0, 2, size=(3, 4)).astype(np.float64)
_ONE_HOT = np.eye(4)[[0, 2, 3]]
_IMG = _rng.integers(0, 2, size=(2, 3, 2)).astype(np.float64)

GRADIENT_CASES = {
    "mape": (losses.mean_absolute_percentage_error, "real"),
    "msle": (losses.mean_squared_logarithmic_error, "probs"),
    "cosine": (losses.cosine_similarity, "real"),
    "huber": (losses.huber, "real"),
    "log_cosh": (losses.log_cosh, "real"),
    "kld": (losses.kl_divergence, "probs"),
    "poisson": (losses.poisson, "probs"),
    "hinge": (losses.hinge, "signed"),
    "squared_hinge": (losses.squared_hinge, "signed"),
    "categorical_hinge": (losses.categorical_hinge, "one_hot"),
    "bfce": (losses.binary_focal_crossentropy, "binary"),
    "bfce_balanced_smoothing": (lambda t, p: losses.binary_focal_crossentropy(t, p, apply_class_balancing=True, alpha=0.3, gamma=1.5, label_smoothing=0.1), "binary"),
    "bfce_logits": (lambda t, p: losses.binary_focal_crossentropy(t, p, from_logits=True, gamma=3.0), "binary_logits"),
    "bfce_axis0": (lambda t, p: losses.binary_focal_crossentropy(t, p, axis=0), "binary"),
    "cfce": (losses.categorical_focal_crossentropy, "one_hot_probs"),
    "cfce_logits_smoothing": (lambda t, p: losses.categorical_focal_crossentropy(t, p, from_logits=True, label_smoothing=0.2, gamma=1.0), "one_hot"),
    "cfce_alpha_per_class": (lambda t, p: losses.categorical_focal_crossentropy(t, p, alpha=[0.1, 0.2, 0.3, 0.4]), "one_hot_probs"),
    "dice": (losses.dice, "binary"),
    "dice_axis": (lambda t, p: losses.dice(t, p, axis=(1, 2)), "image"),
    "tversky": (lambda t, p: losses.tversky(t, p, alpha=0.3, beta=0.7), "binary"),
    "tversky_axis": (lambda t, p: losses.tversky(t, p, alpha=0.8, beta=0.2, axis=-1), "binary"),
    # Through a Loss object: weights and a reduction on top of the per-sample values.
    "bfce_object": (lambda t, p: losses.BinaryFocalCrossentropy(reduction="mean_with_sample_weight")(t, p, sample_weight=[0.5, 1.0, 2.0]), "binary"),
    "cfce_object": (lambda t, p: losses.CategoricalFocalCrossentropy(reduction="sum")(t, p, sample_weight=[0.5, 1.0, 2.0]), "one_hot_probs"),
    "tversky_object": (lambda t, p: losses.Tversky(axis=(1, 2))(t, p, sample_weight=[0.5, 2.0]), "image"),
}


def _gradient_inputs(kind):
    if kind == "real":
        return _rng.uniform(0.2, 0.9, size=(3, 4)), _rng.normal(size=(3, 4))
    if kind == "probs":
        return _rng.uniform(0.2, 0.9, size=(3, 4)), _rng.uniform(0.3, 0.8, size=(3, 4))
    if kind == "signed":
        return 2.0 * _BIN - 1.0, _rng.normal(size=(3, 4))
    if kind == "one_hot":
        return _ONE_HOT, _rng.normal(size=(3, 4))
    if kind == "one_hot_probs":
        return _ONE_HOT, _rng.dirichlet(np.ones(4) * 4, size=3)
    if kind == "binary_logits":
        return _BIN, _rng.normal(size=(3, 4))
    if kind == "image":
        return _IMG, _rng.uniform(0.05, 0.95, size=_IMG.shape)
    return _BIN, _rng.uniform(0.05, 0.95, size=(3, 4))  # binary labels, probabilities off the clip bounds


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradients_match_finite_differences(name):
    fn, kind = GRADIENT_CASES[name]
    y_true, y_pred = _gradient_inputs(kind)
    finite_difference_check(lambda p: fn(y_true, p), [y_pred])


# ----- numpy references of Keras 3.15's formulas (hypothesis) --------------------------------
def _np_smooth_binary(t, smoothing):
    return t * (1 - smoothing) + 0.5 * smoothing


def np_binary_focal(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    t = _np_smooth_binary(t, label_smoothing)
    if from_logits:
        p = 1 / (1 + np.exp(-p))
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    focal = (1 - (t * p + (1 - t) * (1 - p))) ** gamma * bce
    if apply_class_balancing:
        focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
    return focal.mean(axis)


def np_categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    if from_logits:
        e = np.exp(p - p.max(axis, keepdims=True))
        p = e / e.sum(axis, keepdims=True)
    out = np.clip(p / p.sum(axis, keepdims=True), EPS, 1 - EPS)
    return (np.asarray(alpha) * (1 - out) ** gamma * -t * np.log(out)).sum(axis)


def np_dice(t, p, axis=None):
    return 1 - 2 * (t * p).sum(axis) / (t.sum(axis) + p.sum(axis) + EPS)


def np_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    tp = (t * p).sum(axis)
    fp = ((1 - p) * t).sum(axis)
    fn = (p * (1 - t)).sum(axis)
    return 1 - tp / (tp + alpha * fp + beta * fn + EPS)


def np_reduce(values, weights, reduction):
    """Keras's weighting and reduction of per-sample (or scalar) values."""
    if weights is not None:
        if values.ndim == 0 and weights.shape == (1,):
            weights = weights[0]  # Keras's squeeze of a trailing 1 when ranks differ by one
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0:
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and weights is not None:
        return values.sum() / weights.sum()
    return values.sum() / values.size


@st.composite
def focal_cases(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    from_logits = draw(st.booleans())
    bounds = (-4.0, 4.0) if from_logits else (0.01, 0.99)
    y_pred = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(*bounds)))
    kwargs = {"from_logits": from_logits, "gamma": draw(st.sampled_from([0.0, 0.5, 2.0, 3.0])), "label_smoothing": draw(st.sampled_from([0.0, 0.1]))}
    weights = draw(st.none() | hnp.arrays(np.float64, (n,), elements=st.floats(0.1, 2.0)))
    return n, c, y_pred, kwargs, weights, draw(st.sampled_from(REDUCTIONS)), draw(st.integers(0, 2**31 - 1))


@given(focal_cases(), st.booleans(), st.floats(0.0, 1.0))
def test_binary_focal_matches_numpy(case, balance, alpha):
    n, c, y_pred, kwargs, weights, reduction, seed = case
    y_true = np.random.default_rng(seed).integers(0, 2, size=(n, c)).astype(np.float64)
    kwargs.update(apply_class_balancing=balance, alpha=alpha)
    np.testing.assert_allclose(np.asarray(losses.binary_focal_crossentropy(y_true, y_pred, **kwargs)), np_binary_focal(y_true, y_pred, **kwargs), rtol=1e-9, atol=1e-12)
    got = losses.BinaryFocalCrossentropy(**kwargs, reduction=reduction)(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(got), np_reduce(np_binary_focal(y_true, y_pred, **kwargs), weights, reduction), rtol=1e-9, atol=1e-12)


@given(focal_cases(), st.booleans())
def test_categorical_focal_matches_numpy(case, per_class_alpha):
    n, c, y_pred, kwargs, weights, reduction, seed = case
    rng = np.random.default_rng(seed)
    y_true = np.eye(c)[rng.integers(0, c, size=n)]
    kwargs["alpha"] = list(rng.uniform(0.1, 1.0, size=c)) if per_class_alpha else float(rng.uniform(0.1, 1.0))
    np.testing.assert_allclose(np.asarray(losses.categorical_focal_crossentropy(y_true, y_pred, **kwargs)), np_categorical_focal(y_true, y_pred, **kwargs), rtol=1e-9, atol=1e-12)
    got = losses.CategoricalFocalCrossentropy(**kwargs, reduction=reduction)(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(got), np_reduce(np_categorical_focal(y_true, y_pred, **kwargs), weights, reduction), rtol=1e-9, atol=1e-12)


@st.composite
def overlap_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    axis = draw(st.sampled_from([None, -1, tuple(range(1, len(shape)))]))
    weights = draw(st.none() | hnp.arrays(np.float64, shape[:1], elements=st.floats(0.1, 2.0)))
    seed = draw(st.integers(0, 2**31 - 1))
    y_true = np.random.default_rng(seed).integers(0, 2, size=shape).astype(np.float64)
    return y_true, y_pred, axis, weights, draw(st.sampled_from(REDUCTIONS))


@given(overlap_cases())
def test_dice_matches_numpy(case):
    y_true, y_pred, axis, weights, reduction = case
    if axis == -1 and y_true.ndim > 2:
        axis = tuple(range(1, y_true.ndim))  # per-sample values, so weights apply per sample
    np.testing.assert_allclose(np.asarray(losses.dice(y_true, y_pred, axis=axis)), np_dice(y_true, y_pred, axis), rtol=1e-9, atol=1e-12)
    got = losses.Dice(axis=axis, reduction=reduction)(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(got), np_reduce(np_dice(y_true, y_pred, axis), weights, reduction), rtol=1e-9, atol=1e-12)


@given(overlap_cases(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_tversky_matches_numpy(case, alpha, beta):
    y_true, y_pred, axis, weights, reduction = case
    if axis == -1 and y_true.ndim > 2:
        axis = tuple(range(1, y_true.ndim))
    want = np_tversky(y_true, y_pred, alpha, beta, axis)
    np.testing.assert_allclose(np.asarray(losses.tversky(y_true, y_pred, alpha=alpha, beta=beta, axis=axis)), want, rtol=1e-9, atol=1e-12)
    got = losses.Tversky(alpha, beta, reduction=reduction, axis=axis)(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(got), np_reduce(want, weights, reduction), rtol=1e-9, atol=1e-12)


def test_tversky_with_half_weights_is_dice():
    y_true, y_pred = _IMG, _rng.uniform(0, 1, size=_IMG.shape)
    np.testing.assert_allclose(np.asarray(losses.tversky(y_true, y_pred, axis=(1, 2))), np.asarray(losses.dice(y_true, y_pred, axis=(1, 2))), rtol=1e-6)  # ε enters twice as strongly in Tversky


def test_zero_sample_weights_give_zero_mean_with_sample_weight():
    # Keras divides with divide_no_nan: all-zero weights give 0, not nan.
    loss = losses.BinaryFocalCrossentropy(reduction="mean_with_sample_weight")
    assert float(loss(_BIN, np.full((3, 4), 0.3), sample_weight=np.zeros(3))) == 0.0


# ----- names, configs, compile ---------------------------------------------------------------
NEW = {
    "BinaryFocalCrossentropy": (losses.binary_focal_crossentropy, {"apply_class_balancing": True, "alpha": 0.4, "gamma": 3.0, "from_logits": True, "label_smoothing": 0.1, "axis": -1, "name": "bf"}),
    "CategoricalFocalCrossentropy": (losses.categorical_focal_crossentropy, {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 1.0, "from_logits": True, "label_smoothing": 0.2, "axis": -1, "reduction": "sum"}),
    "Dice": (losses.dice, {"axis": (1,), "reduction": "mean_with_sample_weight"}),
    "Tversky": (losses.tversky, {"alpha": 0.2, "beta": 0.8, "axis": [1], "reduction": None}),
}


@pytest.mark.parametrize("cls", list(NEW))
def test_get_serialize_deserialize(cls):
    fn, kwargs = NEW[cls]
    assert isinstance(losses.get(cls), getattr(losses, cls))
    assert losses.get(fn.__name__) is fn
    assert losses.deserialize(losses.serialize(fn)) is fn
    loss = getattr(losses, cls)(**kwargs)
    config = json.loads(json.dumps(losses.serialize(loss)))
    assert config["class_name"] == cls
    revived = losses.get(config)
    # JSON has no tuples: compare the configs as JSON (Keras's round trip turns them into lists too).
    assert type(revived) is type(loss) and json.loads(json.dumps(revived.get_config())) == json.loads(json.dumps(loss.get_config()))
    y_true, y_pred = _ONE_HOT, _rng.uniform(0.1, 0.9, size=(3, 4))
    np.testing.assert_allclose(np.asarray(revived(y_true, y_pred)), np.asarray(loss(y_true, y_pred)), rtol=1e-12)
    # The function with the class's arguments gives the unreduced values.
    fn_kwargs = {k: v for k, v in kwargs.items() if k not in ("name", "reduction")}
    unreduced = getattr(losses, cls)(**fn_kwargs, reduction=None)
    np.testing.assert_allclose(np.asarray(unreduced(y_true, y_pred)), np.asarray(fn(y_true, y_pred, **fn_kwargs)), rtol=1e-12)


def test_defaults_and_names_are_keras():
    assert losses.BinaryFocalCrossentropy().get_config() == {"name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size", "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0, "axis": -1}
    assert losses.CategoricalFocalCrossentropy().get_config() == {"name": "categorical_focal_crossentropy", "reduction": "sum_over_batch_size", "alpha": 0.25, "gamma": 2.0, "from_logits": False, "label_smoothing": 0.0, "axis": -1}
    assert losses.Dice().get_config() == {"name": "dice", "reduction": "sum_over_batch_size", "axis": None}
    assert losses.Tversky().get_config() == {"name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.5, "beta": 0.5, "axis": None}
    assert losses.Huber().name == "huber_loss"
    # Keras's positional orders.
    assert (losses.Huber(0.3).delta, losses.CosineSimilarity(0).axis, losses.Tversky(0.1, 0.9).beta) == (0.3, 0, 0.9)
    assert losses.Dice("sum", "d", (1,)).get_config() == {"name": "d", "reduction": "sum", "axis": (1,)}
    assert losses.SparseCategoricalCrossentropy(True, 3, "sum", 1).axis == 1


def test_metrics_export_the_loss_functions():
    assert metrics.binary_focal_crossentropy is losses.binary_focal_crossentropy
    assert metrics.categorical_focal_crossentropy is losses.categorical_focal_crossentropy
    for name in ("hinge", "squared_hinge", "categorical_hinge", "huber", "kl_divergence", "log_cosh", "poisson", "mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        assert getattr(metrics, name) is getattr(losses, name)
    _, kwargs, y_true, y_pred, _ = _case("bfce")
    _close(metrics.binary_focal_crossentropy(y_true, y_pred), REF["bfce_reduction_none"])


def _binary_data():
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32") > 0).astype("float32")


@pytest.mark.parametrize("loss", ["binary_focal_crossentropy", "BinaryFocalCrossentropy", "dice", "Dice", "tversky", "Tversky", "categorical_focal_crossentropy", "CategoricalFocalCrossentropy", "object"])
def test_usable_in_compile(loss):
    x, y = _binary_data()
    units, activation = 1, "sigmoid"
    if "categorical" in loss.lower() or loss == "object":
        units, activation = 2, "softmax"
        y = np.eye(2, dtype="float32")[y[:, 0].astype(int)]
    if loss == "object":
        loss = losses.CategoricalFocalCrossentropy(alpha=[0.3, 0.7], gamma=1.0)
    model = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(units, activation=activation)])
    model.compile(optimizer=rkeras.optimizers.Adam(0.05), loss=loss)
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.evaluate(x, y, verbose=0) < 0.9 * before


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


# ----- bad input ------------------------------------------------------------------------------
def test_unknown_names_and_arguments_are_errors():
    with pytest.raises(ValueError, match="loss identifier"):
        losses.get("hubber")
    with pytest.raises(ValueError, match="loss identifier"):
        losses.get("focal_crossentropy")
    with pytest.raises(TypeError, match="delta2"):
        losses.Huber(delta2=1.0)
    with pytest.raises(TypeError, match="beta"):
        losses.Dice(beta=0.5)
    with pytest.raises(ValueError, match="reduction"):
        losses.LogCosh(reduction="average")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: dicee"):
        rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(1)]).compile(loss="dicee")


@pytest.mark.parametrize("cls", list(NEW))
def test_invalid_reduction(cls):
    with pytest.raises(ValueError, match=r"Invalid value for argument `reduction`.*Received: reduction='avg'"):
        getattr(losses, cls)(reduction="avg")


@pytest.mark.parametrize("fn, message", [
    (losses.binary_focal_crossentropy, r"`target` and `output` must have the same shape. Received: target.shape=\[3, 2\], output.shape=\[3, 4\]"),
    (losses.categorical_focal_crossentropy, r"`target` and `output` must have the same shape. Received: target.shape=\(3, 2\), output.shape=\(3, 4\)"),
    (losses.dice, r"`y_true` and `y_pred` must have the same shape. Received: y_true.shape=\(3, 2\), y_pred.shape=\(3, 4\)"),
    (losses.tversky, r"`y_true` and `y_pred` must have the same shape. Received: y_true.shape=\(3, 2\), y_pred.shape=\(3, 4\)"),
])
def test_shape_mismatch(fn, message):
    with pytest.raises(ValueError, match=message):
        fn(np.ones((3, 2)), np.full((3, 4), 0.5))
    name = {"binary_focal_crossentropy": "BinaryFocalCrossentropy", "categorical_focal_crossentropy": "CategoricalFocalCrossentropy"}.get(fn.__name__, fn.__name__.capitalize())
    with pytest.raises(ValueError, match="same shape"):
        getattr(losses, name)()(np.ones((3, 2)), np.full((3, 4), 0.5))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`axis` must be of type `int`. Received: axis=True"):
        losses.categorical_focal_crossentropy(_ONE_HOT, np.full((3, 4), 0.25), axis=True)
    with pytest.raises(ValueError, match=r"`label_smoothing` must be in \[0, 1\]. Received: label_smoothing=1.5"):
        losses.BinaryFocalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.categorical_focal_crossentropy(_ONE_HOT, np.full((3, 4), 0.25), label_smoothing=-0.1)
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.categorical_focal_crossentropy(np.ones((3, 1)), np.full((3, 1), 0.5))
