"""The model API against real Keras 3.15 (fixtures: tests/fixtures/make_api_fixtures.py): each
case in api_cases.py runs here with rkeras and must give what it gave with Keras: values,
configs, History contents, printed tables and error messages."""

import json
import math
import os
import sys
import warnings

import pytest

import rkeras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from api_cases import CASES  # noqa: E402

with open(os.path.join(FIXTURES, "keras_api_reference.json")) as f:
    REF = json.load(f)


def assert_same(got, want, path="result"):
    """Equal structures; floats within 1e-5 (relative) or 1e-6 (absolute)."""
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6), f"{path}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), f"{path}: keys {sorted(got) if isinstance(got, dict) else got!r} != {sorted(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_keras(name):
    assert name in REF, f"no Keras result for {name}: rerun tests/fixtures/make_api_fixtures.py"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = json.loads(json.dumps(CASES[name](rkeras)))  # tuples -> lists, as in the fixture
    assert_same(got, REF[name])


@pytest.mark.parametrize("name", sorted(REF["json_models"]))
def test_reads_keras_json(name):
    """`model_from_json` of the JSON Keras wrote, with the case's weights, predicts as Keras did."""
    import numpy as np

    from api_cases import X2, X4, _set_weights

    ref = REF["json_models"][name]
    model = _set_weights(rkeras.models.model_from_json(json.dumps(ref["config"])))
    x = [X4[:3], X2[:3]] if name == "two_inputs_shared" else ({"x": X4[:3]} if name == "dict_io" else X4[:3])
    pred = model.predict(x, verbose=0)
    pred = [pred[k] for k in sorted(pred)] if isinstance(pred, dict) else pred if isinstance(pred, list) else [pred]
    assert len(pred) == len(ref["predict"])
    for p, want in zip(pred, ref["predict"]):
        np.testing.assert_allclose(p, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_loads_keras_weights_file_of_a_subclassed_model():
    """A .weights.h5 written by Keras for a subclassed model (lists, dicts, attributes) loads here."""
    import numpy as np

    from api_cases import X4, _subclassed_model

    net = _subclassed_model(rkeras)
    for w in net.weights:
        w.assign(np.zeros(w.shape, str(w.dtype)))
    net.load_weights(os.path.join(FIXTURES, "keras_subclassed.weights.h5"))
    np.testing.assert_allclose(net.predict(X4[:4], verbose=0), np.asarray(REF["subclassed_weights_file"]["predict"]), rtol=1e-5)


def test_reads_keras_lambda_layers():
    """A model JSON with Lambda layers written by Keras (its bytecode, same Python) loads with
    safe_mode=False and computes what Keras computed."""
    import numpy as np

    ref = REF["lambda_layers"]
    with open(os.path.join(FIXTURES, "keras_lambda_model.json")) as f:
        config = json.load(f)
    with pytest.raises(ValueError, match="safe_mode=False"):
        rkeras.saving.deserialize_keras_object(config)
    model = rkeras.saving.deserialize_keras_object(config, safe_mode=False)
    from api_cases import X4

    np.testing.assert_allclose(model.predict(X4[:2], verbose=0), np.asarray(ref["predict"]), rtol=1e-6)
