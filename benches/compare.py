"""Side-by-side workload comparison: rkeras vs PyTorch vs Keras 3 (JAX backend), on this machine.

    python benches/compare.py [--quick] [--threads N] [--keras-python PATH] [--torch-python PATH]

Each framework runs in its own fresh process, pinned to the same CPUs (and thread count), on the
same synthetic data (fixed seed). Reference frameworks are optional: each is looked for in the
given interpreter (default: this one) and skipped with a note when missing. Per workload: one
warm-up epoch, then the median of 5 timed epochs (Adam(1e-3), sparse categorical crossentropy).
Also: inference latency (median and p99 over >= 2,000 calls) at batch 1 and 32 for mlp and cnn,
`import` time, time from process start to the first finished training step, and peak RSS.
`--quick` uses fewer steps, epochs and calls (under 5 minutes on 2 cores).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

WORKLOADS = {
    "mlp": {"input": (784,), "batch": 128, "steps": 468},
    "cnn": {"input": (28, 28, 1), "batch": 128, "steps": 100},
    "lstm": {"input": (50, 32), "batch": 64, "steps": 100},
    "gru": {"input": (50, 32), "batch": 64, "steps": 100},
}
FRAMEWORKS = ("rkeras", "torch", "keras")


# ---- worker side (runs in a fresh process per framework and workload) ---------------------

def _data(workload, steps):
    spec = WORKLOADS[workload]
    rng = np.random.default_rng(0)
    n = spec["batch"] * steps
    x = rng.random((n,) + spec["input"], dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _keras_model(keras, workload):
    L = keras.layers
    inputs = keras.Input(WORKLOADS[workload]["input"])
    if workload == "mlp":
        body = [L.Dense(512, activation="relu"), L.Dense(512, activation="relu")]
    elif workload == "cnn":
        body = [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(128, activation="relu")]
    elif workload == "lstm":
        body = [L.LSTM(128)]
    else:
        body = [L.GRU(128)]
    model = keras.Sequential([inputs] + body + [L.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def _torch_model(torch, workload):
    nn = torch.nn
    if workload == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    if workload == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = (nn.LSTM if workload == "lstm" else nn.GRU)(32, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    return Recurrent()


def _percentiles(times):
    times = sorted(times)
    return 1e6 * statistics.median(times), 1e6 * times[min(len(times) - 1, int(0.99 * len(times)))]


def _run_keras_like(keras, workload, args, started):
    t = time.perf_counter()
    x, y = _data(workload, args.steps)
    result = {"data_s": time.perf_counter() - t}
    model = _keras_model(keras, workload)

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.epochs, self.first = [], None

        def on_train_batch_end(self, batch, logs=None):
            if self.first is None:
                self.first = time.time() - started

        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            # Reading the loss waits for the epoch's last step: JAX dispatches asynchronously.
            float(logs["loss"])
            self.epochs.append(time.perf_counter() - self.t)

    timer = Timer()
    model.fit(x, y, batch_size=WORKLOADS[workload]["batch"], epochs=1 + args.epochs, shuffle=True, verbose=0, callbacks=[timer])
    result["first_step_s"] = timer.first
    result["samples_per_s"] = len(x) / statistics.median(timer.epochs[1:])
    if workload in ("mlp", "cnn"):
        for batch in (1, 32):
            xb = x[:batch]
            model.predict_on_batch(xb)
            times = []
            for _ in range(args.calls):
                t = time.perf_counter()
                model.predict_on_batch(xb)
                times.append(time.perf_counter() - t)
            result[f"latency_b{batch}_us"] = _percentiles(times)
    return result


def _run_torch(workload, args, started):
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t = time.perf_counter()
    x, y = _data(workload, args.steps)
    data_s = time.perf_counter() - t
    if workload == "cnn":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model = _torch_model(torch, workload)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = WORKLOADS[workload]["batch"]
    result, epochs = {"first_step_s": None, "data_s": data_s}, []
    for _ in range(1 + args.epochs):
        t = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
            if result["first_step_s"] is None:
                result["first_step_s"] = time.time() - started
        epochs.append(time.perf_counter() - t)
    result["samples_per_s"] = len(x) / statistics.median(epochs[1:])
    if workload in ("mlp", "cnn"):
        model.eval()
        with torch.no_grad():
            for b in (1, 32):
                xb = xt[:b]
                model(xb)
                times = []
                for _ in range(args.calls):
                    t = time.perf_counter()
                    model(xb)
                    times.append(time.perf_counter() - t)
                result[f"latency_b{b}_us"] = _percentiles(times)
    return result


def worker(args):
    started = args.started
    os.sched_setaffinity(0, set(range(args.threads)))
    if args.framework == "rkeras":
        import rkeras

        rkeras.config.set_num_threads(args.threads)
        rkeras.utils.set_random_seed(0)
        if args.workload in ("lstm", "gru") and not hasattr(rkeras.layers, args.workload.upper()):
            return {"skipped": f"rkeras has no {args.workload.upper()} layer yet"}
        result = _run_keras_like(rkeras, args.workload, args, started)
    elif args.framework == "keras":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras

        keras.utils.set_random_seed(0)
        result = _run_keras_like(keras, args.workload, args, started)
    else:
        result = _run_torch(args.workload, args, started)
    import resource

    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# ---- driver side ------------------------------------------------------------------------

def _env(threads):
    env = dict(os.environ, KERAS_BACKEND="jax", OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), RKERAS_NUM_THREADS=str(threads))
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}").strip()
    # Import from bytecode, as an installed package does (pip compiles it at install time): with
    # PYTHONDONTWRITEBYTECODE set, every import would recompile the package's sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _has(python, module):
    probe = subprocess.run([python, "-c", f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"], capture_output=True)
    return probe.returncode == 0


def _import_time(python, module, threads, runs=5):
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = [float(subprocess.run([python, "-c", code], capture_output=True, text=True, env=_env(threads), check=True).stdout) for _ in range(runs)]
    return 1e3 * statistics.median(times)


def _run_worker(python, framework, workload, args):
    cmd = [python, os.path.abspath(__file__), "--worker", framework, workload, "--threads", str(args.threads), "--steps", str(args.steps_for(workload)), "--epochs", str(args.epochs), "--calls", str(args.calls), "--started", repr(time.time())]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(args.threads))
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer steps, epochs and calls (< 5 min on 2 cores)")
    parser.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, len(os.sched_getaffinity(0))))
    parser.add_argument("--keras-python", default=sys.executable, help="interpreter with keras + jax (default: this one)")
    parser.add_argument("--torch-python", default=sys.executable, help="interpreter with torch (default: this one)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.framework, args.workload = args.worker
        print(json.dumps(worker(args)))
        return

    args.epochs = args.epochs or (2 if args.quick else 5)
    args.calls = args.calls or (300 if args.quick else 2000)
    args.steps_for = lambda w: WORKLOADS[w]["steps"] // 5 if args.quick else WORKLOADS[w]["steps"]
    pythons = {"rkeras": sys.executable}
    notes = []
    for name, python, module in (("torch", args.torch_python, "torch"), ("keras", args.keras_python, "keras")):
        if _has(python, module) and (module != "keras" or _has(python, "jax")):
            pythons[name] = python
        else:
            notes.append(f"{name}: not installed in {python} (skipped; pass --{name}-python)")

    modules = {"rkeras": "rkeras", "torch": "torch", "keras": "keras"}
    for name, python in pythons.items():
        # Compile missing bytecode before anything is timed (first-step times included).
        subprocess.run([python, "-c", f"import {modules[name]}"], capture_output=True, env=_env(args.threads))
    workloads = args.workloads.split(",")
    results = {w: {} for w in workloads}
    for w in workloads:
        for name, python in pythons.items():
            print(f"running {name} {w} ...", file=sys.stderr, flush=True)
            results[w][name] = _run_worker(python, name, w, args)

    print(f"\n{time.strftime('%Y-%m-%d')}, {args.threads} threads, {'quick' if args.quick else 'full'} run; frameworks: {', '.join(pythons)}")
    for note in notes:
        print(f"note: {note}")
    names = list(pythons)
    print("\n| workload | " + " | ".join(f"{n} samples/s" for n in names) + " | rkeras / best other |")
    print("|---|" + "---|" * (len(names) + 1))
    for w in workloads:
        cells, values = [], {}
        for n in names:
            r = results[w][n]
            if "samples_per_s" in r:
                values[n] = r["samples_per_s"]
                cells.append(f"{r['samples_per_s']:,.0f}")
            else:
                cells.append(r.get("skipped") or r.get("error", "?"))
        others = [v for n, v in values.items() if n != "rkeras"]
        ratio = f"{values['rkeras'] / max(others):.2f}" if "rkeras" in values and others else "-"
        print(f"| {w} | " + " | ".join(cells) + f" | {ratio} |")

    print("\n| inference latency µs (median / p99) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for w in ("mlp", "cnn"):
        if w not in workloads:
            continue
        for b in (1, 32):
            key = f"latency_b{b}_us"
            cells = [f"{results[w][n][key][0]:.0f} / {results[w][n][key][1]:.0f}" if key in results[w][n] else "-" for n in names]
            print(f"| {w} batch {b} | " + " | ".join(cells) + " |")

    print("\n| startup | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| import (ms) | " + " | ".join(f"{_import_time(pythons[n], modules[n], args.threads):.0f}" for n in names) + " |")
    first = workloads[0]
    print(f"| process start → first {first} training step (s) | " + " | ".join(f"{results[first][n]['first_step_s']:.2f}" if results[first][n].get("first_step_s") else "-" for n in names) + " |")
    print(f"| … of which making the synthetic data (s) | " + " | ".join(f"{results[first][n]['data_s']:.2f}" if "data_s" in results[first][n] else "-" for n in names) + " |")
    print(f"| peak RSS of the {first} run (MiB) | " + " | ".join(f"{results[first][n]['peak_rss_mib']:.0f}" if "peak_rss_mib" in results[first][n] else "-" for n in names) + " |")
    print(f"| numpy import (ms) | {_import_time(sys.executable, 'numpy', args.threads):.0f} |" + " |" * (len(names) - 1))


if __name__ == "__main__":
    main()
