"""float32 matmul: rkeras vs numpy (OpenBLAS), same arrays, same thread count.

    python benches/matmul_vs_numpy.py [--threads N] [--sizes 64,128,...] [--rounds R]

Each measurement runs in its own fresh process, and rounds alternate between the libraries
(numpy, rkeras, numpy, rkeras, ...) with the best of each kept, so machine noise hits both
alike. Separate processes matter: OpenBLAS's and rayon's workers keep spinning for a while
after a call, and in one process a spinning pool steals a core from the other library.
Both sides use the allocating form a user writes (`a @ b`): each call returns a new array.
"""

import argparse
import os
import subprocess
import sys
import time


def worker(lib, n, threads):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    if lib == "numpy":
        f = lambda: np.matmul(a, b)  # noqa: E731
    else:
        import rkeras
        from rkeras import ops

        rkeras.config.set_num_threads(threads)
        ta, tb = rkeras.Tensor(a), rkeras.Tensor(b)
        f = lambda: ops.matmul(ta, tb)  # noqa: E731
    reps = max(3, int(3e8 / (2 * n**3)))
    f()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        best = min(best, (time.perf_counter() - t) / reps)
    print(2 * n**3 / best / 1e9)


def measure(lib, n, threads):
    out = subprocess.run([sys.executable, __file__, "--worker", lib, str(n), "--threads", str(threads)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sizes", default="64,128,256,512,1024,2048")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--worker", nargs=2, metavar=("LIB", "N"))
    args = p.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]), args.threads)
    import numpy as np

    import rkeras

    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    print(f"numpy {np.__version__} ({blas.get('name', '?')} {blas.get('version', '')}), rkeras {rkeras.__version__}, "
          f"{args.threads} threads each, simd path {rkeras.config.simd_path()}, best of {args.rounds} alternating rounds")
    print(f"| n | numpy GFLOP/s | rkeras GFLOP/s | rkeras / numpy |\n|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        best = {"numpy": 0.0, "rkeras": 0.0}
        for _ in range(args.rounds):
            for lib in best:
                best[lib] = max(best[lib], measure(lib, n, args.threads))
        print(f"| {n} | {best['numpy']:.1f} | {best['rkeras']:.1f} | {best['rkeras'] / best['numpy']:.2f} |")


if __name__ == "__main__":
    main()
