"""MAPE, MSLE, cosine similarity, log-cosh, KL divergence, Poisson, hinge family, RMSE and the
top-k accuracies: running results over two batches (the second weighted) against real Keras 3
(fixtures: tests/fixtures/make_metric_fixtures.py); names in compile; reset; configs."""

import os
import sys

import numpy as np
import pytest

import rkeras
from rkeras import metrics

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from metric_cases import CASES  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_metric_reference.npz"))


@pytest.mark.parametrize("name", list(CASES))
def test_running_results_match_keras(name):
    cls, kwargs, _ = CASES[name]
    metric = getattr(metrics, cls)(**kwargs)
    for b in range(2):
        sw = REF[f"{name}_{b}_sw"] if b else None
        metric.update_state(REF[f"{name}_{b}_true"], REF[f"{name}_{b}_pred"], sample_weight=sw)
        np.testing.assert_allclose(np.asarray(metric.result()), REF[f"{name}_{b}_result"], rtol=1e-5, atol=1e-6, err_msg=f"after batch {b}")
    metric.reset_state()
    assert float(np.asarray(metric.result())) == 0.0
    revived = type(metric).from_config(metric.get_config())
    assert revived.get_config() == metric.get_config()


def test_top_k_counts_ties_as_in():
    # Scores tied with the label's at the k boundary count as hits (as TensorFlow's in_top_k).
    scores = np.array([[0.5, 0.5, 0.5, 0.1], [0.9, 0.1, 0.2, 0.3]], "float32")
    np.testing.assert_array_equal(np.asarray(metrics.sparse_top_k_categorical_accuracy(np.array([2, 1]), scores, k=1)), [1.0, 0.0])
    np.testing.assert_array_equal(np.asarray(metrics.sparse_top_k_categorical_accuracy(np.array([1, 3]), np.array([[1, 0], [2, 3]]), k=1, from_sorted_ids=True)), [1.0, 0.0])


def test_metrics_by_name_in_compile():
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(40, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 4, size=40)
    model = rkeras.Sequential([rkeras.Input((3,)), rkeras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "sparse_top_k_categorical_accuracy", "top2"}
    assert history.history["sparse_top_k_categorical_accuracy"][-1] == 1.0  # k=5 ≥ 4 classes
    assert 0.0 <= history.history["top2"][-1] <= 1.0


def test_unknown_metric_is_an_error():
    with pytest.raises(ValueError, match="metric identifier"):
        metrics.get("top_k_acc")
    with pytest.raises(TypeError, match="kk"):
        metrics.TopKCategoricalAccuracy(kk=3)
