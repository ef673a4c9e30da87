"""Confusion-matrix metrics, AUC, the "X at Y" family, F-scores, R² and IoU: running results over
weighted and unweighted batches, variables (names, order, values), configs and Keras-serialized
configs against real Keras 3 (fixtures: tests/fixtures/make_confusion_fixtures.py); counts against
a direct numpy reference over hypothesis-drawn data; names in compile and fit's History; reset;
bad arguments."""

import json
import os
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rkeras
from rkeras import metrics
from rkeras.metrics.confusion_metrics import confusion_counts

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from confusion_cases import BATCHES, CASES, weighted  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_confusion_reference.npz"))


def _plain(config):
    """A config with arrays as lists and numpy scalars as Python numbers (JSON-comparable)."""
    return json.loads(json.dumps(config, default=lambda v: v.item() if isinstance(v, np.generic) else np.asarray(v).tolist()))


def _run(name):
    cls, kwargs, _ = CASES[name]
    metric = getattr(metrics, cls)(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IoU warns about float weights with its int dtype, as Keras
        for b in range(BATCHES):
            sw = REF[f"{name}_{b}_sw"] if weighted(b) else None
            metric.update_state(REF[f"{name}_{b}_true"], REF[f"{name}_{b}_pred"], sample_weight=sw)
            yield b, metric


@pytest.mark.parametrize("name", list(CASES))
def test_running_results_match_keras(name):
    for b, metric in _run(name):
        np.testing.assert_allclose(np.asarray(metric.result()), REF[f"{name}_{b}_result"], rtol=1e-5, atol=1e-6, err_msg=f"after batch {b}")


@pytest.mark.parametrize("name", list(CASES))
def test_variables_match_keras(name):
    *_, (_, metric) = _run(name)
    assert [v.name for v in metric.variables] == list(REF[f"{name}_variable_names"])
    for i, v in enumerate(metric.variables):
        np.testing.assert_allclose(np.asarray(v.numpy()), REF[f"{name}_variable_{i}"], rtol=1e-5, atol=1e-5, err_msg=v.name)


@pytest.mark.parametrize("name", list(CASES))
def test_config_matches_keras_and_round_trips(name):
    cls, kwargs, _ = CASES[name]
    metric = getattr(metrics, cls)(**kwargs)
    config = _plain(metric.get_config())
    assert config.pop("name") == metric.name
    assert config == json.loads(str(REF[f"{name}_config"]))
    revived = type(metric).from_config(metric.get_config())
    assert _plain(revived.get_config()) == _plain(metric.get_config())
    # A config written by Keras (label_weights as a "__tensor__") deserializes to the same metric.
    from_keras = metrics.deserialize(json.loads(str(REF[f"{name}_serialized"])))
    assert type(from_keras) is type(metric)
    expected = json.loads(str(REF[f"{name}_config"]))
    got = _plain(from_keras.get_config())
    got.pop("name")
    assert got == expected
    assert metrics.serialize(metric)["module"] == "keras.metrics"


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][0] != "R2Score"])
def test_reset_state_starts_over(name):
    *_, (_, metric) = _run(name)
    metric.reset_state()
    assert all(not np.any(np.asarray(v.numpy())) for v in metric.variables)
    b = BATCHES - 1
    sw = REF[f"{name}_{b}_sw"]
    metric.update_state(REF[f"{name}_{b}_true"], REF[f"{name}_{b}_pred"], sample_weight=sw)
    fresh = getattr(metrics, CASES[name][0])(**CASES[name][1])
    fresh.update_state(REF[f"{name}_{b}_true"], REF[f"{name}_{b}_pred"], sample_weight=sw)
    np.testing.assert_allclose(np.asarray(metric.result()), np.asarray(fresh.result()), rtol=1e-6)


def test_r2_after_reset_is_nan_as_keras():
    *_, (_, metric) = _run("r2")
    metric.reset_state()
    assert np.isnan(float(metric.result()))  # 0/0 over empty sums, as Keras
    assert float(metric.num_samples.numpy()) == 0.0


# ----- numpy references ------------------------------------------------------------------------
def _reference_counts(y_true, y_pred, thresholds, weights):
    """tp, fp, tn, fn per threshold by direct comparison (T × N)."""
    above = y_pred.reshape(1, -1) > np.asarray(thresholds, np.float32).reshape(-1, 1)
    positive = (y_true != 0).reshape(1, -1)
    w = np.broadcast_to(weights, y_pred.shape).reshape(1, -1).astype(np.float64)
    return tuple(np.sum(w * (p & a), axis=1) for p, a in ((positive, above), (~positive, above), (~positive, ~above), (positive, ~above)))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 12),
    cols=st.integers(1, 5),
    thresholds=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 1.0]), min_size=1, max_size=6),
)
def test_counts_match_direct_comparison(data, rows, cols, thresholds):
    shape = (rows, cols)
    y_pred = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 1.0]) | st.floats(0, 1, width=32)))
    y_true = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 1.0, 0.5])))
    weights = data.draw(hnp.arrays(np.float32, (rows, 1), elements=st.floats(0, 3, width=32)))
    got = confusion_counts(y_true, y_pred, thresholds, sample_weight=weights[:, 0])
    for g, want in zip(got, _reference_counts(y_true, y_pred, thresholds, weights)):
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rows=st.integers(1, 10), labels=st.integers(1, 4), n=st.integers(2, 12))
def test_evenly_spaced_counts_match_direct_comparison(data, rows, labels, n):
    # Thresholds −ε, 1/(n−1), ..., 1+ε use Keras's bucket formula; away from the bucket edges it
    # agrees with comparing each prediction against each threshold, per label with multi_label.
    grid = np.arange(n, dtype=np.float64) / (n - 1)
    thresholds = np.concatenate([[-1e-7], grid[1:-1], [1 + 1e-7]])
    y_pred = data.draw(hnp.arrays(np.float32, (rows, labels), elements=st.floats(0, 1, width=32)))
    y_pred = np.where(np.isclose(y_pred[..., None], grid, atol=1e-5).any(-1), np.float32(0.5 / (n - 1)), y_pred).astype(np.float32)
    y_true = data.draw(hnp.arrays(np.float32, (rows, labels), elements=st.sampled_from([0.0, 1.0])))
    got = confusion_counts(y_true, y_pred, thresholds, evenly=True, multi_label=True)
    for g, want_fn in zip(got, range(4)):
        for j in range(labels):
            want = _reference_counts(y_true[:, j], y_pred[:, j], thresholds, np.ones(rows))[want_fn]
            np.testing.assert_allclose(g[:, j], want, rtol=1e-6)


def _roc_auc_exact(y_true, scores):
    """Mann–Whitney probability that a positive outscores a negative (ties count half)."""
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    return (np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :])) / (len(pos) * len(neg))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), rows=st.integers(2, 30))
def test_roc_auc_on_grid_scores_is_the_rank_statistic(data, rows):
    # With scores on the threshold grid's midpoints the trapezoid rule is exact.
    y_true = data.draw(hnp.arrays(np.float32, (rows,), elements=st.sampled_from([0.0, 1.0])))
    if y_true.min() == y_true.max():
        y_true[0] = 1.0 - y_true[0]
    scores = ((data.draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, 9))) + 0.5) / 10).astype(np.float32)
    metric = metrics.AUC(num_thresholds=11)
    metric.update_state(y_true, scores)
    np.testing.assert_allclose(float(metric.result()), _roc_auc_exact(y_true, scores), rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rows=st.integers(1, 12), classes=st.integers(2, 5))
def test_mean_iou_matches_numpy(data, rows, classes):
    y_true = data.draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
    y_pred = data.draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
    metric = metrics.MeanIoU(classes)
    metric.update_state(y_true, y_pred)
    ious = []
    for c in range(classes):
        inter, union = np.sum((y_true == c) & (y_pred == c)), np.sum((y_true == c) | (y_pred == c))
        if union:
            ious.append(inter / union)
    np.testing.assert_allclose(float(metric.result()), np.mean(ious), rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rows=st.integers(2, 12), cols=st.integers(1, 4), beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_fbeta_micro_matches_numpy(data, rows, cols, beta):
    y_true = data.draw(hnp.arrays(np.float32, (rows, cols), elements=st.sampled_from([0.0, 1.0])))
    y_pred = data.draw(hnp.arrays(np.float32, (rows, cols), elements=st.floats(0, 1, width=32)))
    metric = metrics.FBetaScore(average="micro", beta=beta, threshold=0.5)
    metric.update_state(y_true, y_pred)
    predicted = y_pred > 0.5
    tp, fp, fn = np.sum(predicted & (y_true == 1)), np.sum(predicted & (y_true == 0)), np.sum(~predicted & (y_true == 1))
    p, r = tp / (tp + fp + 1e-7), tp / (tp + fn + 1e-7)
    np.testing.assert_allclose(float(metric.result()), (1 + beta**2) * p * r / (beta**2 * p + r + 1e-7), rtol=1e-5, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rows=st.integers(3, 12), cols=st.integers(1, 3))
def test_r2_matches_numpy(data, rows, cols):
    y_true = data.draw(hnp.arrays(np.float64, (rows, cols), elements=st.floats(-5, 5)))
    y_pred = data.draw(hnp.arrays(np.float64, (rows, cols), elements=st.floats(-5, 5)))
    if np.any(np.var(y_true, axis=0) < 1e-3):
        return
    metric = metrics.R2Score(class_aggregation=None, dtype="float64")
    metric.update_state(y_true, y_pred)
    want = 1 - np.sum((y_true - y_pred) ** 2, axis=0) / np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    np.testing.assert_allclose(np.asarray(metric.result()), want, rtol=1e-6, atol=1e-9)


def test_counts_are_vectorized_over_many_thresholds():
    # 10^5 predictions at 1000 thresholds: one bincount, no T×N matrix.
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, 100_000).astype("float32"), rng.random(100_000).astype("float32")
    metric = metrics.AUC(num_thresholds=1000)
    metric.update_state(y_true, y_pred)
    assert abs(float(metric.result()) - 0.5) < 0.01
    tp = metrics.TruePositives(thresholds=list(np.linspace(0.001, 0.999, 500)))
    tp.update_state(y_true, y_pred)
    np.testing.assert_allclose(np.asarray(tp.result())[[0, 250]], [np.sum((y_pred > 0.001) & (y_true == 1)), np.sum((y_pred > np.float32(np.linspace(0.001, 0.999, 500)[250])) & (y_true == 1))])


def test_top_k_keeps_exactly_k_with_ties_to_the_lower_index():
    m = metrics.Precision(top_k=1)
    m.update_state([[0, 1, 0]], [[0.5, 0.5, 0.2]])  # index 0 wins the tie: a false positive
    assert float(m.result()) == 0.0
    r = metrics.Recall(top_k=2)
    r.update_state([[0, 0, 1]], [[0.5, 0.5, 0.5]])
    assert float(r.result()) == 0.0


def test_multi_label_auc_builds_on_first_batch():
    m = metrics.AUC(multi_label=True)
    assert m.variables == []
    m.update_state(np.eye(3)[[0, 1, 2, 0]], np.eye(3)[[0, 1, 2, 0]] * 0.8 + 0.1)
    assert [tuple(v.shape) for v in m.variables] == [(200, 3)] * 4
    assert float(m.result()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"shape \(batch_size, 3\)"):
        m.update_state(np.ones((2, 4)), np.ones((2, 4)))


# ----- names, compile and fit ------------------------------------------------------------------
def test_get_resolves_the_names_keras_resolves():
    expected = {
        "precision": metrics.Precision, "recall": metrics.Recall, "auc": metrics.AUC, "AUC": metrics.AUC,
        "f1_score": metrics.F1Score, "f_beta_score": metrics.FBetaScore, "r2_score": metrics.R2Score,
        "true_positives": metrics.TruePositives, "false_negatives": metrics.FalseNegatives, "FBetaScore": metrics.FBetaScore,
    }
    for name, cls in expected.items():
        assert type(metrics.get(name)) is cls, name
    for name, cls in {"io_u": metrics.IoU, "mean_io_u": metrics.MeanIoU, "one_hot_mean_io_u": metrics.OneHotMeanIoU, "precision_at_recall": metrics.PrecisionAtRecall}.items():
        assert metrics.ALL_OBJECTS_DICT[name] is cls
    # Keras 3.15 has no such names either ("fbeta_score" is only FBetaScore's default name).
    for name in ("fbeta_score", "iou", "mean_iou", "binary_iou"):
        with pytest.raises(ValueError, match=f"Could not interpret metric identifier: {name}"):
            metrics.get(name)
    # Classes with required arguments fail like Keras's when named without them.
    with pytest.raises(TypeError, match="num_classes"):
        metrics.get("mean_io_u")
    auc = metrics.deserialize(metrics.serialize(metrics.AUC(curve="PR", multi_label=True, label_weights=[1.0, 2.0], name="pr")))
    assert (auc.curve, auc.multi_label, auc.name) == ("PR", True, "pr")
    np.testing.assert_array_equal(auc.label_weights, [1.0, 2.0])


def _binary_model():
    rkeras.utils.set_random_seed(3)
    model = rkeras.Sequential([rkeras.Input((4,)), rkeras.layers.Dense(8, activation="relu"), rkeras.layers.Dense(1, activation="sigmoid")])
    return model


def test_fit_history_keys_and_values_with_string_names():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] + 0.3 * rng.normal(size=(64, 1)) > 0).astype("float32")
    model = _binary_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["precision", "recall", "auc", "AUC", metrics.F1Score(threshold=0.5, average="micro"), metrics.BinaryIoU(name="biou")])
    history = model.fit(x, y, batch_size=16, epochs=2, validation_data=(x[:32], y[:32]), verbose=0)
    names = ["precision", "recall", "auc", "AUC", "f1_score", "biou"]
    assert set(history.history) == {"loss", "val_loss", *names, *(f"val_{n}" for n in names)}
    # The validation numbers are the metrics over the validation set after the last epoch.
    p = model.predict(x[:32], verbose=0)
    for name, metric in [("precision", metrics.Precision()), ("recall", metrics.Recall()), ("auc", metrics.AUC()), ("AUC", metrics.AUC()), ("f1_score", metrics.F1Score(threshold=0.5, average="micro")), ("biou", metrics.BinaryIoU())]:
        metric.update_state(y[:32], p)
        assert history.history[f"val_{name}"][-1] == pytest.approx(float(metric.result()), rel=1e-5), name
    evaluated = model.evaluate(x[:32], y[:32], verbose=0, return_dict=True)
    assert evaluated["auc"] == pytest.approx(history.history["val_auc"][-1], rel=1e-5)


def test_metrics_per_output_in_multi_output_compile():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 4)).astype("float32")
    y_bin = (x[:, :1] > 0).astype("float32")
    y_reg = np.concatenate([x[:, 1:2] * 2.0, x[:, 2:3] - x[:, 3:4]], axis=1).astype("float32")
    inputs = rkeras.Input((4,))
    hidden = rkeras.layers.Dense(8, activation="relu")(inputs)
    out_bin = rkeras.layers.Dense(1, activation="sigmoid", name="cls")(hidden)
    out_reg = rkeras.layers.Dense(2, name="reg")(hidden)
    model = rkeras.Model(inputs, [out_bin, out_reg])
    model.compile(optimizer="adam", loss={"cls": "binary_crossentropy", "reg": "mse"}, metrics={"cls": ["auc", "AUC", metrics.Precision(thresholds=[0.3, 0.6])], "reg": ["r2_score"]})
    history = model.fit(x, {"cls": y_bin, "reg": y_reg}, batch_size=16, epochs=1, validation_split=0.25, verbose=0)
    keys = ["cls_AUC", "cls_auc", "cls_loss", "cls_precision", "loss", "reg_loss", "reg_r2_score"]  # as Keras 3.15's History
    assert sorted(history.history) == sorted(keys + [f"val_{k}" for k in keys])
    assert np.shape(history.history["cls_precision"][-1]) == (2,)  # one precision per threshold, as Keras
    p_bin, p_reg = model.predict(x[36:], verbose=0)
    r2 = metrics.R2Score()
    r2.update_state(y_reg[36:], p_reg)
    assert history.history["val_reg_r2_score"][-1] == pytest.approx(float(r2.result()), rel=1e-4)
    auc = metrics.AUC()
    auc.update_state(y_bin[36:], p_bin)
    assert history.history["val_cls_auc"][-1] == pytest.approx(float(auc.result()), rel=1e-5)


# ----- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: metrics.Precision(thresholds=[0.5, 1.5, -1]), r"Threshold values must be in \[0, 1\]. Received: \[1.5, -1\]"),
        (lambda: metrics.TruePositives(thresholds=2.0), r"Threshold values must be in \[0, 1\]. Received: \[2.0\]"),
        (lambda: metrics.AUC(thresholds=[0.2, None]), r"Threshold values must be in \[0, 1\]"),
        (lambda: metrics.AUC(num_thresholds=1), "Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=1"),
        (lambda: metrics.PrecisionAtRecall(0.5, num_thresholds=0), "Argument `num_thresholds` must be an integer > 0. Received: num_thresholds=0"),
        (lambda: metrics.SensitivityAtSpecificity(1.5), r"Argument `specificity` must be in the range \[0, 1\]. Received: specificity=1.5"),
        (lambda: metrics.RecallAtPrecision(-0.1), r"Argument `precision` must be in the range \[0, 1\]"),
        (lambda: metrics.AUC(curve="Roc"), r'Invalid AUC curve value: "Roc". Expected values are \["PR", "ROC", "PRGAIN"\]'),
        (lambda: metrics.AUC(summation_method="trapezoid"), r'Invalid AUC summation method value: "trapezoid"'),
        (lambda: metrics.AUC(num_labels=3), "`num_labels` is needed only when `multi_label` is True."),
        (lambda: metrics.F1Score(average="samples"), "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. Received: average=samples"),
        (lambda: metrics.FBetaScore(beta=1), "Invalid `beta` argument value. It should be a Python float. Received: beta=1"),
        (lambda: metrics.FBetaScore(beta=-2.0), "It should be > 0. Received: beta=-2.0"),
        (lambda: metrics.F1Score(threshold=1.5), "It should verify 0 < threshold <= 1. Received: threshold=1.5"),
        (lambda: metrics.R2Score(class_aggregation="mean"), "Invalid value for argument `class_aggregation`"),
        (lambda: metrics.R2Score(num_regressors=-1), "Expected a value >= 0. Received: num_regressors=-1"),
        (lambda: metrics.IoU(3, [0, 3]), r"Target class id 3 is out of range, which is \[0, 3\)."),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "metric, y_true, y_pred, message",
    [
        (metrics.Precision(), np.ones((6, 4)), np.full((6, 3), 0.6), r"`y_true` and `y_pred` must have the same shape. Received: y_true.shape=\(6, 4\), y_pred.shape=\(6, 3\)"),
        (metrics.AUC(), np.ones((6,)), np.full((5,), 0.6), "must have the same shape"),
        (metrics.TruePositives(), np.ones((6, 2)), np.full((6, 2, 2), 0.6), "must have the same shape"),
        (metrics.Precision(class_id=1), np.ones((6,)), np.ones((6,)), "When class_id is provided, y_pred must be a 2D array"),
        (metrics.AUC(multi_label=True), np.ones((6,)), np.ones((6,)), "`y_pred` must have rank 2 when `multi_label=True`. Found rank 1"),
        (metrics.F1Score(), np.ones((6,)), np.ones((6,)), r"FBetaScore expects 2D inputs with shape \(batch_size, output_dim\)"),
        (metrics.F1Score(), np.ones((6, 4)), np.ones((6, 3)), "must have compatible shapes"),
        (metrics.R2Score(), np.ones((6, 4)), np.ones((6, 3)), "must have the same shape"),
        (metrics.R2Score(), np.ones((6, 2, 2)), np.ones((6, 2, 2)), "R2Score expects 2D inputs"),
        (metrics.MeanIoU(3), np.ones((6,)), np.ones((5,)), "must have the same number of elements"),
    ],
)
def test_bad_inputs(metric, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metric.update_state(y_true, y_pred)


def test_bad_sample_weight_shape():
    with pytest.raises(ValueError, match="`sample_weight` must be broadcastable"):
        metrics.Recall().update_state(np.ones((6, 4)), np.ones((6, 4)), sample_weight=np.ones((5,)))
