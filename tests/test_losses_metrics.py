"""Losses and metrics against numpy versions of Keras 3's formulas."""

import numpy as np
import pytest

import rkeras
from rkeras import losses, metrics
from opcheck import finite_difference_check

EPS = 1e-7
rng = np.random.default_rng(0)


def _probs(shape):
    z = rng.normal(size=shape)
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _np(x):
    return np.asarray(x, np.float64)


def test_mse_mae_reduce_the_last_axis_then_the_batch():
    yt = rng.normal(size=(5, 3)).astype("float32")
    yp = rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(_np(losses.mean_squared_error(yt, yp)), ((yt - yp) ** 2).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(_np(losses.MeanAbsoluteError()(yt, yp)), np.abs(yt - yp).mean(), rtol=1e-6)
    # (N,) targets against (N, 1) predictions are aligned, not broadcast to (N, N).
    np.testing.assert_allclose(_np(losses.mse(np.array([1.0, 0.0]), np.array([[1.0], [2.0]], "float32"))), [0.0, 4.0])


def test_reductions_and_sample_weight():
    yt = rng.normal(size=(4, 2)).astype("float32")
    yp = rng.normal(size=(4, 2)).astype("float32")
    w = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    per = ((yt - yp) ** 2).mean(-1)
    assert float(losses.MeanSquaredError()(yt, yp, sample_weight=w)) == pytest.approx((per * w).sum() / 4, rel=1e-6)
    assert float(losses.MeanSquaredError(reduction="sum")(yt, yp, sample_weight=w)) == pytest.approx((per * w).sum(), rel=1e-6)
    assert float(losses.MeanSquaredError(reduction="mean_with_sample_weight")(yt, yp, sample_weight=w)) == pytest.approx((per * w).sum() / w.sum(), rel=1e-6)
    np.testing.assert_allclose(_np(losses.MeanSquaredError(reduction=None)(yt, yp)), per, rtol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_categorical_crossentropy_clips_renormalizes_and_smooths():
    p = _probs((6, 4))
    t = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
    want = -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1)
    np.testing.assert_allclose(_np(losses.categorical_crossentropy(t, p)), want, rtol=1e-5)
    smoothed = t * 0.9 + 0.1 / 4
    want = -(smoothed * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1).mean()
    assert float(losses.CategoricalCrossentropy(label_smoothing=0.1)(t, p)) == pytest.approx(want, rel=1e-5)
    logits = rng.normal(size=(6, 4)).astype("float32")
    log_sm = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert float(losses.CategoricalCrossentropy(from_logits=True)(t, logits)) == pytest.approx(-(t * log_sm).sum(-1).mean(), rel=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        losses.categorical_crossentropy(t[:, :3], p)


def test_sparse_categorical_crossentropy_labels_and_ignore_class():
    p = _probs((5, 3))
    y = np.array([0, 2, 1, 1, 0])
    want = -np.log(np.clip(p[np.arange(5), y], EPS, 1 - EPS))
    np.testing.assert_allclose(_np(losses.sparse_categorical_crossentropy(y, p)), want, rtol=1e-5)
    # (N, 1) and float labels are accepted, as in Keras.
    assert float(losses.SparseCategoricalCrossentropy()(y.reshape(-1, 1).astype("float32"), p)) == pytest.approx(want.mean(), rel=1e-5)
    # Ignored labels contribute nothing and do not count in the mean.
    ignored = losses.SparseCategoricalCrossentropy(ignore_class=1)(y, p)
    assert float(ignored) == pytest.approx(want[[0, 1, 4]].mean(), rel=1e-5)
    with pytest.raises(ValueError, match="label"):
        losses.sparse_categorical_crossentropy(np.array([0, 3, 1, 1, 0]), p)


def test_binary_crossentropy_probabilities_logits_and_smoothing():
    t = rng.integers(0, 2, size=(4, 3)).astype("float32")
    p = rng.uniform(0.01, 0.99, size=(4, 3)).astype("float32")
    pc = np.clip(p, EPS, 1 - EPS)
    want = -(t * np.log(pc) + (1 - t) * np.log(1 - pc)).mean(-1)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(t, p)), want, rtol=1e-5)
    z = rng.normal(size=(4, 3)).astype("float32")
    want = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()
    assert float(losses.BinaryCrossentropy(from_logits=True)(t, z)) == pytest.approx(want, rel=1e-5)
    ts = t * 0.8 + 0.1
    want = -(ts * np.log(pc) + (1 - ts) * np.log(1 - pc)).mean()
    assert float(losses.BinaryCrossentropy(label_smoothing=0.2)(t, p)) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy"])
def test_loss_gradients_match_finite_differences(name):
    fn = losses.get(name)
    t = rng.uniform(0.1, 0.9, size=(3, 4))
    t = t / t.sum(-1, keepdims=True) if name == "categorical_crossentropy" else t
    p = rng.uniform(0.2, 0.8, size=(3, 4))
    finite_difference_check(lambda yp: fn(t, yp), [p])


def test_get_serialize_and_unknown_names():
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    restored = losses.deserialize(losses.serialize(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="bce")))
    assert (restored.from_logits, restored.label_smoothing, restored.name) == (True, 0.1, "bce")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("mean_squared_eror")
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get("acuracy")


def test_mean_and_sum_weighting():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(4.0, sample_weight=3)
    assert float(m.result()) == pytest.approx((6 + 12) / 6)
    m.reset_state()
    assert float(m.result()) == 0.0
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[1.0, 0.0])
    assert float(m.result()) == pytest.approx(2.0)
    s = metrics.Sum()
    s.update_state([1.0, 2.0], sample_weight=[2.0, 3.0])
    assert float(s.result()) == pytest.approx(8.0)
    assert [v.name for v in metrics.Mean().variables] == ["total", "count"]


def test_accuracy_family():
    p = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], "float32")
    assert float(metrics.SparseCategoricalAccuracy()([[1], [1], [1]], p)) == pytest.approx(2 / 3)
    assert float(metrics.CategoricalAccuracy()(np.eye(2)[[1, 0, 0]], p)) == pytest.approx(2 / 3)
    assert float(metrics.BinaryAccuracy()([[1], [0], [1]], [[0.6], [0.4], [0.2]])) == pytest.approx(2 / 3)
    assert float(metrics.BinaryAccuracy(threshold=0.1)([[1], [0], [1]], [[0.6], [0.4], [0.2]])) == pytest.approx(2 / 3)
    assert float(metrics.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4])) == pytest.approx(0.75)
    acc = metrics.SparseCategoricalAccuracy()
    acc.update_state([1, 0], p[:2])
    acc.update_state([0], p[2:], sample_weight=[3.0])
    assert float(acc.result()) == pytest.approx(2 / 5)
    mse = metrics.MeanSquaredError()
    mse.update_state([[0.0], [1.0]], np.array([[1.0], [1.0]], "float32"))
    assert float(mse.result()) == pytest.approx(0.5)
    restored = metrics.deserialize(metrics.serialize(metrics.BinaryAccuracy(threshold=0.7, name="ba")))
    assert (restored.threshold, restored.name) == (0.7, "ba")
