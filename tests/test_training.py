"""compile/fit/evaluate/predict, callbacks, progress output, and end-to-end training."""

import io
import sys

import numpy as np
import pytest

import rkeras
from rkeras import layers
from rkeras.models import Model, Sequential

rng = np.random.default_rng(0)


def _data(n=64, d=4, classes=3, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, d)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)
    return x, np.minimum(y, classes - 1)


def _classifier(d=4, classes=3, **dense_kwargs):
    return Sequential([rkeras.Input((d,)), layers.Dense(16, activation="relu", **dense_kwargs), layers.Dense(classes, activation="softmax")])


def test_fit_history_keys_and_values_are_keras_like():
    x, y = _data()
    model = _classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert history is model.history
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The last epoch's val_loss is what evaluate gives on the last 25% (split before shuffling).
    val = model.evaluate(x[48:], y[48:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert val["accuracy"] == pytest.approx(history.history["val_accuracy"][-1], rel=1e-5)


def test_logged_loss_is_the_batch_weighted_mean_including_regularization():
    x, y = _data(n=10)
    model = Sequential([rkeras.Input((4,)), layers.Dense(3, kernel_regularizer=rkeras.regularizers.L2(0.1), kernel_initializer="ones")])
    model.compile(optimizer=rkeras.optimizers.SGD(0.0), loss="mse")
    target = np.zeros((10, 3), "float32")
    history = model.fit(x, target, batch_size=4, epochs=1, shuffle=False, verbose=0)
    pred = x @ np.ones((4, 3))
    per_batch = [((pred[i:i + 4] ** 2).mean() + 0.1 * 12, len(pred[i:i + 4])) for i in range(0, 10, 4)]
    want = sum(v * n for v, n in per_batch) / 10
    assert history.history["loss"][0] == pytest.approx(want, rel=1e-5)


def test_evaluate_predict_and_on_batch_methods():
    x, y = _data()
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, verbose=0)
    assert 0 <= acc <= 1 and loss > 0
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    pred = model.predict(x, batch_size=10, verbose=0)
    assert pred.shape == (64, 3) and isinstance(pred, np.ndarray)
    np.testing.assert_allclose(model.predict_on_batch(x), pred, rtol=1e-6)
    out = model.train_on_batch(x, y)
    assert isinstance(out, list) and len(out) == 2
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_sample_weight_and_class_weight():
    x, y = _data()
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    zero = model.evaluate(x, y, sample_weight=np.zeros(len(x)), verbose=0)
    assert zero == pytest.approx(0.0, abs=1e-7)
    full = model.evaluate(x, y, verbose=0)
    half = model.evaluate(x, y, sample_weight=np.full(len(x), 0.5), verbose=0)
    assert half == pytest.approx(full / 2, rel=1e-5)
    w0 = model.get_weights()
    model.fit(x, y, class_weight={0: 0.0, 1: 0.0, 2: 0.0}, epochs=1, verbose=0)
    for a, b in zip(w0, model.get_weights()):
        np.testing.assert_allclose(a, b)


def test_generators_pydataset_and_keras2_aliases():
    x, y = _data()

    def gen():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    class Batches(rkeras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    model = _classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    h = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert sorted(h.history) == ["acc", "loss"]
    h = model.fit(Batches(), epochs=2, validation_data=Batches(), verbose=0)
    assert "val_loss" in h.history
    h = model.fit_generator(gen(), steps_per_epoch=4, epochs=1, verbose=0)
    assert len(h.history["loss"]) == 1
    assert model.evaluate_generator(Batches()) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    assert model.predict_generator(Batches()).shape == (64, 3)
    assert rkeras.utils.Sequence is rkeras.utils.PyDataset


def test_multi_output_losses_metrics_and_weights_by_name():
    a = rkeras.Input((4,), name="a")
    h = layers.Dense(8, activation="relu")(a)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = Model(a, [cls, reg])
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    x, y = _data()
    t = x[:, :1] * 2
    h = model.fit(x, {"cls": y, "reg": t}, epochs=2, verbose=0)
    assert sorted(h.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]
    logs = model.evaluate(x, [y, t], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-4)


def test_early_stopping_patience_and_restore_best_weights():
    x, y = _data()
    model = _classifier()
    model.compile(optimizer=rkeras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    stop = rkeras.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e-4)
    h = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    # lr 0: no improvement after the first epoch, so it stops at epoch index 2.
    assert len(h.history["loss"]) == 3 and stop.stopped_epoch == 2 and model.stop_training

    model = _classifier()
    model.compile(optimizer=rkeras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    seen = []
    record = rkeras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((logs["loss"], model.get_weights())))
    stop = rkeras.callbacks.EarlyStopping(monitor="loss", patience=100, restore_best_weights=True)
    model.fit(x, y, epochs=6, verbose=0, callbacks=[record, stop])
    best = int(np.argmin([s[0] for s in seen]))
    assert stop.best_epoch == best
    for a, b in zip(model.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(a, b)

    # Auto mode decides at the first epoch end, from the compiled metric's direction (Keras).
    model.compile(optimizer=rkeras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    auto, by_loss = rkeras.callbacks.EarlyStopping(monitor="val_accuracy"), rkeras.callbacks.EarlyStopping()
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[auto, by_loss])
    assert auto._better is np.greater and by_loss._better is np.less


def test_callback_hooks_order():
    calls = []

    class Recorder(rkeras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin{epoch}")

        def on_batch_end(self, batch, logs=None):
            calls.append(f"batch{batch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end{epoch}")
            assert "loss" in logs and self.model is model and self.params["epochs"] == 2

        def on_train_end(self, logs=None):
            calls.append("train_end")

    x, y = _data(n=8)
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[Recorder()])
    assert calls == ["train_begin", "epoch_begin0", "batch0", "batch1", "epoch_end0", "epoch_begin1", "batch0", "batch1", "epoch_end1", "train_end"]


def test_progress_output_formats(capsys, monkeypatch):
    """Not on a terminal (a log file, a pipe): only each epoch's finished line, without the
    control characters and colours used on terminals (those are compared with Keras's bytes in
    test_api_keras_compat.py)."""
    import re

    x, y = _data(n=32)
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    bar = r"4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
    assert lines[0] == "Epoch 1/2" and re.fullmatch(bar, lines[1]) and lines[2] == "Epoch 2/2" and re.fullmatch(bar, lines[3])
    assert len(lines) == 4
    model.fit(x, y, batch_size=8, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and re.fullmatch(r"4/4 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[1])
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""

    # A stdout that cannot encode the bar characters gets Keras's fallback: "=" for "━".
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    model.evaluate(x, y, batch_size=8, verbose=1)
    ascii_out.flush()
    text = raw.getvalue().decode("ascii")
    assert re.fullmatch(r"4/4 ={20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n", text)


def test_functional_two_branch_and_subclassed_models_train():
    x, y = _data(n=128)
    a, b = rkeras.Input((2,)), rkeras.Input((2,))
    merged = layers.concatenate([layers.Dense(8, activation="tanh")(a), layers.Dense(8, activation="relu")(b)])
    model = Model([a, b], layers.Dense(3, activation="softmax")(merged))
    model.compile(optimizer=rkeras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit([x[:, :2], x[:, 2:]], y, epochs=30, verbose=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.drop = layers.Dropout(0.1, seed=0)
            self.out = layers.Dense(3)

        def call(self, inputs, training=False):
            return self.out(self.drop(self.hidden(inputs), training=training))

    net = Net()
    net.compile(optimizer=rkeras.optimizers.Adam(0.01), loss=rkeras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    h = net.fit(x, y, epochs=15, verbose=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]


def test_custom_loop_with_gradient_tape_and_apply_gradients():
    x, y = _data(n=128)
    model = _classifier()
    loss_fn = rkeras.losses.SparseCategoricalCrossentropy()
    opt = rkeras.optimizers.SGD(0.5, momentum=0.9)
    losses = []
    for _ in range(30):
        with rkeras.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    assert losses[-1] < 0.6 * losses[0]
    assert int(opt.iterations.numpy()) == 30


def test_same_seed_same_training_for_any_thread_count():
    def run(threads):
        rkeras.config.set_num_threads(threads)
        try:
            rkeras.backend.clear_session()
            rkeras.utils.set_random_seed(42)
            x, y = _data(n=96)
            model = Sequential([rkeras.Input((4,)), layers.Dense(32, activation="relu"), layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
            return h.history["loss"], model.get_weights()
        finally:
            rkeras.config.set_num_threads(0)

    l1, w1 = run(1)
    l2, w2 = run(2)
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_mlp_on_bundled_digits_reaches_95_percent():
    (x_train, y_train), (x_test, y_test) = rkeras.datasets.digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8) and x_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))
    rkeras.utils.set_random_seed(0)
    x_train = x_train.reshape(-1, 64).astype("float32") / 255
    x_test = x_test.reshape(-1, 64).astype("float32") / 255
    model = Sequential([rkeras.Input((64,)), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, rkeras.utils.to_categorical(y_train).argmax(1), epochs=30, batch_size=32, verbose=0)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.95


def test_bad_fit_data_gets_a_clear_error():
    x, y = _data(20)
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    for split in (1.5, -0.1, 1.0):
        with pytest.raises(ValueError, match=r"`validation_split` must be a float between 0 and 1.*Received: validation_split="):
            model.fit(x, y, validation_split=split, verbose=0)
    with pytest.raises(ValueError, match=r"`x` contains a list of Python scalars.*np.asarray"):
        model.fit(x.tolist(), y, verbose=0)
    with pytest.raises(ValueError, match=r"`y` is a list of Python scalars"):
        model.fit(x, y.tolist(), verbose=0)
    # Lists of arrays stay multi-input data.
    assert model.evaluate(x, y, verbose=0) > 0


def test_a_generator_that_runs_out_ends_training_with_keras_warning():
    x, y = _data(40)
    model = _classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    batches = ((x[i : i + 10], y[i : i + 10]) for i in range(0, 40, 10))
    with pytest.warns(UserWarning, match="Your input ran out of data; interrupting training"):
        history = model.fit(batches, epochs=3, verbose=0, shuffle=False)
    assert history.epoch == [0] and len(history.history["loss"]) == 1
    with pytest.warns(UserWarning, match="`shuffle=True` was passed, but will be ignored since the data `x` was provided as a generator"):
        model.fit(iter([(x, y)]), epochs=1, verbose=0)


def test_custom_train_step_as_in_the_keras_guide():
    """The "customizing fit()" guide: `x, y = data`, compute_loss, optimizer.apply, the metrics
    in self.metrics, and the returned dict is what fit logs (Keras's _get_metrics_result_or_logs)."""

    class CustomModel(Model):
        def train_step(self, data):
            x, y = data
            with rkeras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            return {"answer": 42.0, "batch": float(len(x))}

    x, y = _data(32)
    inputs = rkeras.Input((4,))
    model = CustomModel(inputs, layers.Dense(3, activation="softmax")(inputs))
    model.compile(optimizer=rkeras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == ["accuracy", "loss", "val_answer", "val_batch"]
    assert history.history["val_answer"] == [42.0, 42.0] and history.history["val_batch"] == [8.0, 8.0]
    assert history.history["loss"][-1] > 0 and 0 <= history.history["accuracy"][-1] <= 1 and model.evaluate(x, y, verbose=0, return_dict=True) == {"answer": 42.0, "batch": 32.0}
    # Batches without sample weights are (x, y); with them (x, y, w).
    seen = []
    model.train_step = lambda data: seen.append(len(data)) or {"loss": 0.0}
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.fit(x, y, sample_weight=np.ones(32), batch_size=16, epochs=1, verbose=0)
    assert seen == [2, 2, 3, 3]


def test_keras2_spellings():
    x, y = _data(40)
    model = Sequential([layers.Dense(8, activation="relu", batch_input_shape=(None, 4)), layers.Dense(3, activation="softmax")])
    assert model.input_shape == (None, 4) and model.built
    legacy = Sequential([layers.Dense(8, input_dim=4), layers.Dense(3, activation="softmax")])
    assert legacy.input_shape == (None, 4)
    model.compile(optimizer=rkeras.optimizers.SGD(lr=0.1, decay=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, nb_epoch=3, batch_size=10, verbose=0)
    assert history.epoch == [0, 1, 2]

    def batches():
        while True:
            for i in range(0, 40, 10):
                yield x[i : i + 10], y[i : i + 10]

    assert model.evaluate_generator(batches(), steps=4) == model.evaluate(x, y, batch_size=10, verbose=0)
    np.testing.assert_array_equal(model.predict_generator(((x[i : i + 10],) for i in range(0, 40, 10))), model.predict(x, verbose=0))
    history = model.fit_generator(batches(), steps_per_epoch=4, epochs=2, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(20, dtype="float32")[:, None]
    model = Sequential([rkeras.Input((1,)), layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    model.compile(optimizer=rkeras.optimizers.SGD(0.0), loss="mse")
    seen = []
    step = model.train_step
    model.train_step = lambda data: seen.extend(np.asarray(data[0]).ravel().tolist()) or step(data)
    rkeras.utils.set_random_seed(3)
    history = model.fit(x, x, validation_split=0.25, batch_size=4, epochs=2, shuffle=True, verbose=0)
    assert sorted(seen[:15]) == list(range(15)) and sorted(seen[15:]) == list(range(15))
    assert seen[:15] != list(range(15)) and seen[:15] != seen[15:]  # shuffled, differently each epoch
    assert history.history["val_loss"] == [0.0, 0.0]  # identity model on the last 5 samples
    # validation on the last 5 exactly: a model off by one shows their mean squared error.
    model.layers[0].kernel.assign(np.full((1, 1), 2.0, "float32"))
    history = model.fit(x, x, validation_split=0.25, batch_size=4, epochs=1, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(np.mean(np.arange(15, 20) ** 2))
