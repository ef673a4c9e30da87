"""rkeras.random: distributions, seeds (int, SeedGenerator, global), dropout and its gradient,
and values independent of the thread count."""

import random as py_random

import numpy as np
import pytest

import rkeras
from rkeras import random
from opcheck import finite_difference_check

N = 1_000_000


def arr(t):
    return np.asarray(t)


def test_uniform_moments_and_range():
    u = arr(random.uniform((N,), seed=1))
    assert u.dtype == np.float32 and u.shape == (N,)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 2e-3
    assert abs(u.var() - 1 / 12) < 1e-3
    v = arr(random.uniform((1000, 1000), minval=-3.0, maxval=5.0, dtype="float64", seed=2))
    assert v.dtype == np.float64 and v.shape == (1000, 1000)
    assert v.min() >= -3.0 and v.max() < 5.0
    assert abs(v.mean() - 1.0) < 0.02
    # Ten equal bins each get a tenth of the draws.
    counts = np.histogram(u, bins=10, range=(0, 1))[0] / N
    np.testing.assert_allclose(counts, 0.1, atol=2e-3)


def test_normal_moments():
    z = arr(random.normal((N,), mean=2.0, stddev=3.0, dtype="float64", seed=3))
    assert abs(z.mean() - 2.0) < 0.01
    assert abs(z.std() - 3.0) < 0.01
    s = (z - z.mean()) / z.std()
    assert abs(np.mean(s**3)) < 0.01  # skewness
    assert abs(np.mean(s**4) - 3.0) < 0.03  # kurtosis
    assert abs(np.mean(np.abs(s) < 1) - 0.6827) < 2e-3
    assert arr(random.normal((3, 4), seed=1)).dtype == np.float32


def test_truncated_normal_moments_and_range():
    t = arr(random.truncated_normal((N,), mean=-1.0, stddev=0.5, seed=4))
    assert t.dtype == np.float32
    assert np.all(np.abs(t + 1.0) <= 1.0 + 1e-6)
    assert abs(t.mean() + 1.0) < 3e-3
    # A standard normal truncated to [-2, 2] has standard deviation 0.87962.
    assert abs(t.std() - 0.5 * 0.87962) < 2e-3


def test_randint_range_and_counts():
    r = arr(random.randint((N,), 0, 10, seed=5))
    assert r.dtype == np.int64
    assert r.min() == 0 and r.max() == 9
    np.testing.assert_allclose(np.bincount(r) / N, 0.1, atol=2e-3)
    with pytest.raises(ValueError, match="randint"):
        random.randint((3,), 5, 5, seed=1)
    with pytest.raises(ValueError, match="randint"):
        random.randint((3,), 0, 5, dtype="float32", seed=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="uniform"):
        random.uniform((3,), dtype="int64", seed=1)
    with pytest.raises(ValueError, match="uniform"):
        random.uniform((3,), minval=2.0, maxval=1.0, seed=1)
    with pytest.raises(ValueError, match="normal"):
        random.normal((3,), stddev=-1.0, seed=1)
    with pytest.raises(ValueError, match="shape"):
        random.normal((3, -1), seed=1)
    with pytest.raises(ValueError, match="seed"):
        random.uniform((3,), seed="abc")


@pytest.mark.parametrize("fn", [random.uniform, random.normal, random.truncated_normal])
def test_int_seeds_are_deterministic(fn):
    a = arr(fn((257,), seed=10))
    np.testing.assert_array_equal(a, arr(fn((257,), seed=10)))
    assert not np.array_equal(a, arr(fn((257,), seed=11)))
    # The first elements do not depend on the total size.
    np.testing.assert_array_equal(a[:100], arr(fn((100,), seed=10)))


def test_seed_generator_advances_and_replays():
    g = random.SeedGenerator(7)
    a, b = arr(random.uniform((50,), seed=g)), arr(random.uniform((50,), seed=g))
    assert not np.array_equal(a, b)
    assert g.state == (7, 2)
    h = random.SeedGenerator(7)
    np.testing.assert_array_equal(a, arr(random.uniform((50,), seed=h)))
    np.testing.assert_array_equal(b, arr(random.uniform((50,), seed=h)))
    assert not np.array_equal(a, arr(random.uniform((50,), seed=random.SeedGenerator(8))))
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.SeedGenerator("x")


def test_set_random_seed_makes_unseeded_calls_reproducible():
    def run():
        rkeras.utils.set_random_seed(1234)
        return (
            arr(random.uniform((20,))),
            arr(random.normal((20,))),
            arr(random.dropout(np.ones(20, np.float32), 0.5)),
            arr(random.uniform((20,), seed=random.SeedGenerator())),
            py_random.random(),
            np.random.rand(),
        )

    first, second = run(), run()
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    # Unseeded calls in a sequence differ from one another.
    assert not np.array_equal(first[0], arr(random.uniform((20,))))
    rkeras.utils.set_random_seed(4321)
    assert not np.array_equal(first[0], arr(random.uniform((20,))))
    with pytest.raises(ValueError, match="seed"):
        rkeras.utils.set_random_seed(1.5)


def test_dropout_rate_and_scale():
    x = np.random.default_rng(0).uniform(1, 2, size=(1000, 1000)).astype(np.float32)
    for rate in (0.1, 0.5, 0.8):
        y = arr(random.dropout(x, rate, seed=3))
        assert y.dtype == np.float32 and y.shape == x.shape
        dropped = y == 0
        assert abs(dropped.mean() - rate) < 3e-3
        np.testing.assert_allclose(y[~dropped], x[~dropped] / np.float32(1 - rate), rtol=1e-6)
    np.testing.assert_array_equal(arr(random.dropout(x, 0.0, seed=1)), x)
    np.testing.assert_array_equal(arr(random.dropout(x, 0.5, seed=9)), arr(random.dropout(x, 0.5, seed=9)))
    assert not np.array_equal(arr(random.dropout(x, 0.5, seed=9)), arr(random.dropout(x, 0.5, seed=10)))


def test_dropout_noise_shape_broadcasting():
    x = np.ones((8, 30, 5), np.float64)
    y = arr(random.dropout(x, 0.5, noise_shape=(None, 1, None), seed=2))
    # One keep/drop decision per (batch, channel), shared along axis 1.
    assert np.all(y == y[:, :1, :])
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0 < (y == 0).mean() < 1
    z = arr(random.dropout(x, 0.5, noise_shape=(8, 1, 1), seed=2))
    assert np.all(z == z[:, :1, :1])
    with pytest.raises(ValueError, match="dropout.*noise_shape"):
        random.dropout(x, 0.5, noise_shape=(8, 2, 5), seed=2)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match=r"dropout.*rate"):
        random.dropout(np.ones(4, np.float32), rate, seed=1)


def test_dropout_gradient():
    x = np.random.default_rng(1).normal(size=(4, 6))
    finite_difference_check(lambda t: random.dropout(t, 0.4, seed=17), [x])
    finite_difference_check(lambda t: random.dropout(t, 0.5, noise_shape=(1, None), seed=5), [x])
    # The gradient is exactly the scaled mask.
    t = rkeras.Tensor(x)
    with rkeras.GradientTape() as tape:
        tape.watch(t)
        y = random.dropout(t, 0.25, seed=8)
        loss = rkeras.ops.sum(y)
    g = arr(tape.gradient(loss, t))
    np.testing.assert_array_equal(g, np.where(arr(y) == 0, 0.0, 1 / 0.75))


@pytest.mark.parametrize("make", [
    lambda: random.dropout(np.ones(N, np.float32), 0.3, seed=21),
    lambda: random.uniform((N,), seed=22),
    lambda: random.normal((N,), dtype="float64", seed=23),
    lambda: random.truncated_normal((N,), seed=24),
    lambda: random.randint((N,), -50, 50, seed=25),
])
def test_values_independent_of_thread_count(make):
    try:
        rkeras.config.set_num_threads(1)
        one = arr(make())
        rkeras.config.set_num_threads(2)
        two = arr(make())
        rkeras._core._set_simd_scalar(True)
        scalar = arr(make())
    finally:
        rkeras._core._set_simd_scalar(False)
        rkeras.config.set_num_threads(0)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, scalar)


def test_shuffle():
    x = np.arange(60, dtype=np.float64).reshape(5, 4, 3)
    y = arr(random.shuffle(x, axis=1, seed=3))
    assert y.shape == x.shape and y.dtype == x.dtype
    order = (y[0, :, 0] // 3).astype(int)  # source row of each shuffled slice in batch 0
    np.testing.assert_array_equal(np.sort(order), np.arange(4))
    np.testing.assert_array_equal(y, x[:, order, :])
    np.testing.assert_array_equal(y, arr(random.shuffle(x, axis=-2, seed=3)))
    long = np.arange(10_000)
    s = arr(random.shuffle(long, seed=1))
    assert s.dtype == np.int64
    np.testing.assert_array_equal(np.sort(s), long)
    assert not np.array_equal(s, long)
    assert not np.array_equal(s, arr(random.shuffle(long, seed=2)))
    # Each value lands in each position about equally often.
    first = [int(arr(random.shuffle(np.arange(4), seed=k))[0]) for k in range(4000)]
    np.testing.assert_allclose(np.bincount(first) / 4000, 0.25, atol=0.03)
    with pytest.raises(ValueError, match="shuffle"):
        random.shuffle(x, axis=3, seed=1)
    finite_difference_check(lambda t: random.shuffle(t, axis=0, seed=7), [np.random.default_rng(2).normal(size=(6, 2))])
