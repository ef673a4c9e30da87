"""Learning-rate schedules (values against real Keras 3 at many steps, configs, use inside an
optimizer) and the callbacks that change the rate (LearningRateScheduler, ReduceLROnPlateau:
their `learning_rate` history against Keras fits; bad arguments)."""

import os
import sys

import numpy as np
import pytest

import rkeras
from rkeras.optimizers import schedules

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from schedule_cases import SCHEDULES, STEPS, plateau_model  # noqa: E402

REF = np.load(os.path.join(FIXTURES, "keras_schedule_reference.npz"))


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_values_match_keras(name):
    cls, kwargs = SCHEDULES[name]
    schedule = getattr(schedules, cls)(**kwargs)
    np.testing.assert_allclose([float(schedule(s)) for s in STEPS], REF[name], rtol=1e-5, atol=1e-7)
    revived = schedules.deserialize(schedules.serialize(schedule))
    assert type(revived) is type(schedule) and revived.get_config() == schedule.get_config()


def test_an_optimizer_follows_its_schedule():
    schedule = schedules.CosineDecay(0.1, decay_steps=4)
    opt = rkeras.optimizers.SGD(learning_rate=schedule)
    var = rkeras.Variable(np.zeros(1))
    for step in range(6):
        before = float(np.asarray(var)[0])
        opt.apply_gradients([(np.ones(1), var)])
        np.testing.assert_allclose(before - float(np.asarray(var)[0]), schedule(step), rtol=1e-6)
    restored = rkeras.optimizers.SGD.from_config(opt.get_config())
    assert isinstance(restored._learning_rate, schedules.CosineDecay)


def _fit(callback, epochs):
    model = plateau_model(rkeras)
    model.set_weights([np.array([[0.3], [0.2]], "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=rkeras.optimizers.SGD(0.1), loss="mse")
    return model.fit(REF["x"], REF["y"], batch_size=16, epochs=epochs, shuffle=False, verbose=0, callbacks=[callback]).history


def test_reduce_lr_on_plateau_matches_keras():
    history = _fit(rkeras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=0.01, cooldown=1, min_lr=0.01), 12)
    np.testing.assert_allclose(history["loss"], REF["plateau_loss"], rtol=1e-5)
    np.testing.assert_allclose(history["learning_rate"], REF["plateau_lr"], rtol=1e-6)


def test_learning_rate_scheduler_matches_keras():
    history = _fit(rkeras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch >= 2 else lr), 5)
    np.testing.assert_allclose(history["learning_rate"], REF["scheduler_lr"], rtol=1e-6)
    np.testing.assert_allclose(history["loss"], REF["scheduler_loss"], rtol=1e-5)
    # A schedule of the epoch alone works too.
    history = _fit(rkeras.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), 3)
    np.testing.assert_allclose(history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)


def test_reduce_lr_never_goes_below_min_lr():
    history = _fit(rkeras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_delta=10.0, min_lr=0.005), 6)
    assert min(history["learning_rate"]) >= 0.005 - 1e-9
    assert history["learning_rate"][-1] == pytest.approx(0.005)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="factor"):
        rkeras.callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, decay_steps=0)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.PolynomialDecay(0.1, decay_steps=-3)
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, first_decay_steps=0)
    with pytest.raises(ValueError, match="should be a float"):
        _fit(rkeras.callbacks.LearningRateScheduler(lambda epoch, lr: "fast"), 1)
