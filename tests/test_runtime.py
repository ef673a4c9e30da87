"""Runtime guarantees: the kernel pool survives fork, thread settings never change results,
kernels release the GIL, and the RKERAS_* environment variables are honoured."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import rkeras
from rkeras import ops

BIG = 4_000_000  # above every parallel threshold: kernels run on the pool
TIMEOUT = 120


def _inputs():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, BIG).astype(np.float32)
    b = rng.uniform(-1, 1, BIG).astype(np.float32)
    m = rng.uniform(-1, 1, (300, 300))
    return a, b, m


def _parallel_kernels_ok():
    """Run parallel add/sum/matmul/dropout and check their values (True when all are right)."""
    a, b, m = _inputs()
    added = np.asarray(ops.add(a, b))
    total = float(ops.sum(a.astype(np.float64)))
    prod = np.asarray(ops.matmul(m, m))
    mask = np.asarray(rkeras.random.dropout(np.ones(BIG, np.float32), 0.5, seed=1))
    return (
        np.array_equal(added, a + b)
        and abs(total - a.astype(np.float64).sum()) < 1e-6
        and np.allclose(prod, m @ m, rtol=1e-12, atol=1e-12)
        and abs((mask == 0).mean() - 0.5) < 0.01
    )


def _child_main():
    # Exit status is the verdict; never fall back into the parent's pytest.
    code = 1
    try:
        code = 0 if _parallel_kernels_ok() else 1
    finally:
        os._exit(code)


def _wait(pid):
    """Exit status of child `pid`, or kill it and fail if it does not finish (a deadlock)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"forked child still running after {TIMEOUT}s: the kernel pool deadlocked after fork")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pool_works_in_a_forked_child():
    assert _parallel_kernels_ok()  # the parent's pool is up and busy-capable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded process forked"
        pid = os.fork()
    if pid == 0:
        _child_main()
    assert _wait(pid) == 0
    assert _parallel_kernels_ok()  # the parent's pool still works after the fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pool_works_in_nested_forks():
    assert _parallel_kernels_ok()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
        if pid == 0:
            # The child uses its own fresh pool, then forks again.
            code = 1
            try:
                if _parallel_kernels_ok():
                    grandchild = os.fork()
                    if grandchild == 0:
                        _child_main()
                    code = _wait(grandchild)
            finally:
                os._exit(code)
    assert _wait(pid) == 0


def _mp_target(queue):
    queue.put(_parallel_kernels_ok())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_pool_works_in_multiprocessing_fork_children():
    assert _parallel_kernels_ok()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        procs = [ctx.Process(target=_mp_target, args=(queue,)) for _ in range(2)]
        for p in procs:
            p.start()
    results = []
    for p in procs:
        p.join(TIMEOUT)
        if p.is_alive():
            p.kill()
            p.join()
            pytest.fail(f"multiprocessing child still running after {TIMEOUT}s: deadlock after fork")
        assert p.exitcode == 0
    while len(results) < len(procs):
        results.append(queue.get(timeout=TIMEOUT))
    assert results == [True, True]


def test_thread_settings_do_not_change_results():
    a, b, _ = _inputs()
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(400, 300)), rng.normal(size=(300, 500))

    def run():
        return (
            np.asarray(ops.add(a, b)),
            np.asarray(ops.sum(a)),
            np.asarray(ops.sum(ops.reshape(a, (2000, 2000)), axis=0)),
            np.asarray(ops.matmul(x, y)),
            np.asarray(ops.matmul(x.astype(np.float32), y.astype(np.float32))),
        )

    try:
        rkeras.config.set_num_threads(1)
        assert rkeras.config.get_num_threads() == 1
        single = run()
        rkeras.config.set_num_threads(0)
        assert rkeras.config.get_num_threads() >= 1
        default = run()
        rkeras.config.set_num_threads(3)
        three = run()
    finally:
        rkeras.config.set_num_threads(0)
    for s, d, t in zip(single, default, three):
        np.testing.assert_array_equal(s, d)
        np.testing.assert_array_equal(s, t)
    with pytest.raises(ValueError, match="set_num_threads"):
        rkeras.config.set_num_threads(-1)


def test_kernels_release_the_gil():
    # With a huge switch interval CPython never takes the GIL from a running thread, so the
    # counter thread can only run while the main thread blocks or releases the GIL itself.
    a = np.random.default_rng(0).normal(size=(1500, 1500))
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time.sleep(1e-4)  # releases the GIL so the main thread can always take it back

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    thread = threading.Thread(target=count, daemon=True)
    try:
        thread.start()
        while counter[0] == 0:
            time.sleep(0.001)
        advanced = []
        for _ in range(2):
            before = counter[0]
            ops.matmul(a, a)  # ~0.1-0.3 s of GIL-free work
            advanced.append(counter[0] - before)
    finally:
        stop.set()
        sys.setswitchinterval(old)
        thread.join(TIMEOUT)
    assert all(n > 0 for n in advanced), f"counter advances during kernels: {advanced}"


def _run_python(code, **env):
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


_DIGEST = (
    "import hashlib, numpy as np, rkeras; from rkeras import ops;"
    "x = np.linspace(-3, 3, 300_001).astype(np.float32);"
    "vals = [ops.add(x, x), ops.exp(x), ops.sum(x), rkeras.random.normal((100_000,), seed=3),"
    " rkeras.random.dropout(x, 0.5, seed=4)];"
    "print(hashlib.sha256(b''.join(np.asarray(v).tobytes() for v in vals)).hexdigest())"
)


def test_environment_variables():
    assert _run_python("import rkeras; print(rkeras.config.get_num_threads())", RKERAS_NUM_THREADS="1") == "1"
    assert _run_python("import rkeras; print(rkeras.config.get_num_threads())", RKERAS_NUM_THREADS="3") == "3"
    assert _run_python("import rkeras; print(rkeras.config.simd_path())", RKERAS_SIMD="scalar") == "scalar"
    # Neither setting changes any value.
    reference = _run_python(_DIGEST)
    assert _run_python(_DIGEST, RKERAS_NUM_THREADS="1") == reference
    assert _run_python(_DIGEST, RKERAS_SIMD="scalar", RKERAS_NUM_THREADS="2") == reference
    assert _run_python(_DIGEST, RKERAS_SIMD="avx2") == reference
    assert _run_python("import rkeras; print(rkeras.config.simd_path())", RKERAS_SIMD="avx2") in ("avx2", "scalar")
