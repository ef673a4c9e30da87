"""Training throughput of the same MLPs in rkeras, Keras 3 (JAX backend) and PyTorch.

    python benches/train_vs_keras.py --keras-python /path/to/venv-with-keras/bin/python \\
        [--torch-python /path/to/venv-with-torch/bin/python] [--rounds 3]

Each framework runs in its own process (so threads and allocators do not interfere), the rounds
alternate between frameworks, and the best time per epoch is kept (the first epoch is warm-up:
JAX compiles there). Workloads:
  digits  the bundled 8×8 digits, 64→128(relu)→10(softmax), Adam, batch 32;
  mnist   synthetic MNIST-sized data, 784→256(relu)→256(relu)→10(softmax), Adam, batch 128.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

WORKLOADS = {
    "digits": {"inputs": 64, "hidden": [128], "classes": 10, "batch": 32, "epochs": 6, "samples": None},
    "mnist": {"inputs": 784, "hidden": [256, 256], "classes": 10, "batch": 128, "epochs": 4, "samples": 12000},
}


def _data(spec):
    if spec["samples"] is None:
        import rkeras

        (x, y), _ = rkeras.datasets.digits.load_data()
        return x.reshape(-1, 64).astype("float32") / 255.0, y.astype("int64")
    rng = np.random.default_rng(0)
    x = rng.random((spec["samples"], spec["inputs"]), dtype=np.float32)
    y = rng.integers(0, spec["classes"], spec["samples"])
    return x, y


def _epoch_times_keras(keras, spec, x, y):
    layers = [keras.Input((spec["inputs"],))] + [keras.layers.Dense(h, activation="relu") for h in spec["hidden"]]
    model = keras.Sequential(layers + [keras.layers.Dense(spec["classes"], activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = Timer()
    model.fit(x, y, batch_size=spec["batch"], epochs=spec["epochs"], verbose=0, callbacks=[timer])
    return timer.times


def _epoch_times_torch(spec, x, y):
    import torch

    sizes = [spec["inputs"]] + spec["hidden"]
    mods = []
    for a, b in zip(sizes, sizes[1:]):
        mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*mods, torch.nn.Linear(sizes[-1], spec["classes"]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    n, b = len(x), spec["batch"]
    for _ in range(spec["epochs"]):
        start = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, b):
            idx = perm[i:i + b]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def worker(framework, workload, data_file):
    spec = WORKLOADS[workload]
    with np.load(data_file) as data:
        x, y = data["x"], data["y"]
    if framework == "rkeras":
        import rkeras

        times = _epoch_times_keras(rkeras, spec, x, y)
    elif framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras

        times = _epoch_times_keras(keras, spec, x, y)
    else:
        times = _epoch_times_torch(spec, x, y)
    print(json.dumps({"best_epoch_s": min(times[1:]), "steps": -(-len(x) // spec["batch"])}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keras-python")
    parser.add_argument("--torch-python")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=3, metavar=("FRAMEWORK", "WORKLOAD", "DATA"))
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    pythons = {"rkeras": sys.executable}
    if args.keras_python:
        pythons["keras"] = args.keras_python
    if args.torch_python:
        pythons["torch"] = args.torch_python
    tmp = tempfile.mkdtemp()
    for workload, spec in WORKLOADS.items():
        data_file = os.path.join(tmp, f"{workload}.npz")
        x, y = _data(spec)
        np.savez(data_file, x=x, y=y)
        best = {}
        for _ in range(args.rounds):
            for name, python in pythons.items():
                env = dict(os.environ, KERAS_BACKEND="jax")
                out = subprocess.run([python, __file__, "--worker", name, workload, data_file], capture_output=True, text=True, env=env, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                best[name] = min(best.get(name, float("inf")), result["best_epoch_s"])
                steps = result["steps"]
        row = " | ".join(f"{name} {1e3 * t / steps:.3f} ms/step" for name, t in best.items())
        ratios = " | ".join(f"{name}/rkeras {t / best['rkeras']:.2f}x" for name, t in best.items() if name != "rkeras")
        print(f"{workload}: {row}  ({ratios})")


if __name__ == "__main__":
    main()
