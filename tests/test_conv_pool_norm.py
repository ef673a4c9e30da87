"""Convolution, pooling and normalization: ops against straightforward numpy references over
hypothesis-drawn padding/stride/dilation/group combinations, gradients against finite
differences in float64, the layer contract for every layer, a CNN on the bundled digits, and
the errors bad input gets."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import rkeras
from rkeras import layers, ops
from layercheck import run_layer_test
from opcheck import finite_difference_check


# ---- numpy references -------------------------------------------------------------------

def _pads(spatial, kernel, strides, dilation, padding):
    out = []
    for size, k, s, d in zip(spatial, kernel, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "valid":
            out.append((0, 0))
        else:
            total = max((-(-size // s) - 1) * s + span - size, 0)
            out.append((total // 2, total - total // 2))
    return out


def conv_reference(x, w, strides, padding, dilation, groups):
    """Cross-correlation by definition, channels last, any number of spatial dims."""
    nd = x.ndim - 2
    pads = _pads(x.shape[1:-1], w.shape[:nd], strides, dilation, padding)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    span = [(k - 1) * d + 1 for k, d in zip(w.shape[:nd], dilation)]
    out_sp = [(xp.shape[1 + i] - span[i]) // strides[i] + 1 for i in range(nd)]
    cg, o = w.shape[-2], w.shape[-1]
    og = o // groups
    out = np.zeros((x.shape[0], *out_sp, o))
    for pos in itertools.product(*[range(n) for n in out_sp]):
        window = xp[(slice(None),) + tuple(slice(p * s, p * s + sp, d) for p, s, sp, d in zip(pos, strides, span, dilation))]
        for g in range(groups):
            patch = window[..., g * cg:(g + 1) * cg]
            out[(slice(None),) + pos + (slice(g * og, (g + 1) * og),)] = np.tensordot(patch, w[..., g * og:(g + 1) * og], axes=nd + 1)
    return out


def pool_reference(x, pool, strides, padding, mode):
    nd = x.ndim - 2
    pads = _pads(x.shape[1:-1], pool, strides, (1,) * nd, padding)
    fill = -np.inf if mode == "max" else np.nan
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    out_sp = [(xp.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(nd)]
    out = np.zeros((x.shape[0], *out_sp, x.shape[-1]))
    axes = tuple(range(1, nd + 1))
    for pos in itertools.product(*[range(n) for n in out_sp]):
        window = xp[(slice(None),) + tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, pool))]
        out[(slice(None),) + pos] = window.max(axis=axes) if mode == "max" else np.nanmean(window, axis=axes)
    return out


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2]))
    cin = groups * draw(st.integers(1, 2))
    filters = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = draw(st.sampled_from(["valid", "same"]))
    # Keras forbids strides > 1 together with dilation > 1.
    if draw(st.booleans()):
        strides, dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd)), (1,) * nd
    else:
        strides, dilation = (1,) * nd, tuple(draw(st.integers(1, 2)) for _ in range(nd))
    spatial = tuple(draw(st.integers((k - 1) * d + 1, (k - 1) * d + 4)) for k, d in zip(kernel, dilation))
    seed = draw(st.integers(0, 999))
    return nd, groups, cin, filters, kernel, padding, strides, dilation, spatial, seed


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv_matches_numpy_and_finite_differences(case):
    nd, groups, cin, filters, kernel, padding, strides, dilation, spatial, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, *spatial, cin))
    w = rng.normal(size=(*kernel, cin // groups, filters))
    b = rng.normal(size=(filters,))
    fn = lambda x, w, b: ops.conv(x, w, strides, padding, dilation_rate=dilation, bias=b)  # noqa: E731
    want = conv_reference(x, w, strides, padding, dilation, groups) + b
    np.testing.assert_allclose(np.asarray(fn(x, w, b)), want, rtol=1e-10, atol=1e-10)
    got32 = np.asarray(fn(x.astype("float32"), w.astype("float32"), b.astype("float32")))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want, rtol=1e-4, atol=1e-4)
    finite_difference_check(fn, [x, w, b])


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.sampled_from(["valid", "same"]), st.integers(0, 99))
def test_conv_transpose_is_the_adjoint_of_conv(nd, stride, padding, seed):
    # <conv_transpose(y, w), x> == <y, conv(x, w)>: the transposed kernel layout
    # (k, filters, in) is the conv kernel (k, in, filters) itself.
    rng = np.random.default_rng(seed)
    size, k = 3 * stride, 3
    x = rng.normal(size=(2,) + (size,) * nd + (2,))
    w = rng.normal(size=(k,) * nd + (2, 3))
    conv_x = np.asarray(ops.conv(x, w, stride, padding))
    y = rng.normal(size=conv_x.shape)
    # The output padding that makes the transposed output as long as x.
    out = conv_x.shape[1]
    output_padding = size - (out - 1) * stride - k + 2 * (k // 2 if padding == "same" else 0)
    xt = np.asarray(ops.conv_transpose(y, w, stride, padding, output_padding=output_padding))
    assert xt.shape == x.shape
    np.testing.assert_allclose(np.sum(xt * x), np.sum(y * conv_x), rtol=1e-10)
    finite_difference_check(lambda y, w: ops.conv_transpose(y, w, stride, padding), [y, w])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.sampled_from(["max", "average"]), st.sampled_from(["valid", "same"]), st.integers(0, 999), st.data())
def test_pooling_matches_numpy_and_finite_differences(nd, mode, padding, seed, data):
    pool = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    spatial = tuple(data.draw(st.integers(p, p + 3)) for p in pool)
    rng = np.random.default_rng(seed)
    # Distinct values, so the max (and its gradient) is unique.
    x = rng.permutation(np.prod((2, *spatial, 2))).reshape((2, *spatial, 2)) / 7.0
    fn = ops.max_pool if mode == "max" else ops.average_pool
    got = np.asarray(fn(x, pool, strides, padding))
    np.testing.assert_allclose(got, pool_reference(x, pool, strides, padding, mode), rtol=1e-12)
    finite_difference_check(lambda x: fn(x, pool, strides, padding), [x], eps=1e-4)


def test_pooling_channels_first_and_float32():
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 5)).astype("float32")
    got = np.asarray(ops.max_pool(x, 2, data_format="channels_first"))
    want = pool_reference(np.moveaxis(x, 1, -1), (2, 2), (2, 2), "valid", "max")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.moveaxis(want, -1, 1), rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(0, 999), st.booleans())
def test_batch_norm_kernel_matches_numpy_and_finite_differences(rank_extra, seed, channels_first):
    from rkeras.ops import _nn

    rng = np.random.default_rng(seed)
    shape = (3,) + (2,) * rank_extra + (3,)
    x = rng.normal(size=shape)
    axis = 1 if channels_first else -1
    c = shape[axis]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    y, mean, var = (np.asarray(t) for t in _nn.batch_norm_training(x, gamma, beta, axis, 1e-3))
    axes = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    m, v = x.mean(axis=axes), x.var(axis=axes)
    bshape = [1] * len(shape)
    bshape[axis] = c
    np.testing.assert_allclose(mean, m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, v, rtol=1e-10, atol=1e-12)
    want = (x - m.reshape(bshape)) / np.sqrt(v.reshape(bshape) + 1e-3) * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-10)
    finite_difference_check(lambda x, g, b: _nn.batch_norm_training(x, g, b, axis, 1e-3)[0], [x, gamma, beta])


def _conv_pool_grads(x, w):
    """Tape gradients of sum(max_pool(relu(conv(x, w)))²) with respect to x and w."""
    with rkeras.GradientTape() as tape:
        y = ops.max_pool(ops.conv(x, w, padding="same", activation="relu"), 2)
        loss = ops.sum(ops.square(y))
    return [np.asarray(g) for g in tape.gradient(loss, [x, w])]


def test_conv_and_pool_are_the_same_for_any_thread_count():
    rng = np.random.default_rng(3)
    x = rkeras.Variable(rng.normal(size=(4, 12, 11, 3)).astype("float32"))
    w = rkeras.Variable(rng.normal(size=(3, 3, 3, 8)).astype("float32"))

    before = rkeras.config.get_num_threads()
    try:
        rkeras.config.set_num_threads(1)
        one = _conv_pool_grads(x, w)
        rkeras.config.set_num_threads(2)
        two = _conv_pool_grads(x, w)
    finally:
        rkeras.config.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_winograd_convs_match_the_definition_and_the_direct_path(padding):
    # float32 3×3 stride-1 convolutions over enough 2×2 output tiles take Winograd F(2×2, 3×3):
    # through a model's predict (the fused conv + max pool chain), a plain layer call, and the
    # direct sums (`_set_winograd(False)`), the same values up to float32 rounding.
    from rkeras import _core

    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 14, 13, 16)).astype("float32")
    model = rkeras.Sequential([rkeras.Input((14, 13, 16)), layers.Conv2D(40, 3, padding=padding, activation="relu"), layers.MaxPooling2D(2)])
    conv = model.layers[0]
    kernel, bias = (np.asarray(v, dtype="float64") for v in conv.weights)
    want_conv = np.maximum(conv_reference(x.astype("float64"), kernel, (1, 1), padding, (1, 1), 1) + bias, 0)
    want = pool_reference(want_conv, (2, 2), (2, 2), "valid", "max")
    try:
        results = {}
        for on in (True, False):
            _core._set_winograd(on)
            results[on] = (model.predict_on_batch(x), np.asarray(conv(x)))
    finally:
        _core._set_winograd(True)
    for pooled, y in results.values():
        np.testing.assert_allclose(pooled, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y, want_conv, rtol=1e-5, atol=1e-5)
    # Not the same bits: the Winograd path really ran.
    assert not np.array_equal(results[True][1], results[False][1])


def test_gradients_through_a_winograd_forward_match_the_direct_path():
    # The backward is the exact convolution's whatever computed the forward (its relu mask
    # comes from the saved output): float32 gradients with and without Winograd agree.
    from rkeras import _core

    rng = np.random.default_rng(6)
    x = rkeras.Variable(rng.normal(size=(6, 12, 12, 8)).astype("float32"))
    w = rkeras.Variable(rng.normal(size=(3, 3, 8, 16)).astype("float32"))
    try:
        _core._set_winograd(True)
        fast = _conv_pool_grads(x, w)
        _core._set_winograd(False)
        direct = _conv_pool_grads(x, w)
    finally:
        _core._set_winograd(True)
    for a, b in zip(fast, direct):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_batch_one_winograd_predictions_follow_weight_updates():
    # Inference keeps Winograd's transformed kernels between calls (batch 1: 25 pooled tiles);
    # a training step, set_weights and assign each give the next prediction the new weights.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(1, 12, 12, 8)).astype("float32")
    model = rkeras.Sequential([rkeras.Input((12, 12, 8)), layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    conv, dense = model.layers[0], model.layers[-1]

    def reference():
        kernel, bias = (np.asarray(v, dtype="float64") for v in conv.weights)
        h = pool_reference(np.maximum(conv_reference(x.astype("float64"), kernel, (1, 1), "valid", (1, 1), 1) + bias, 0), (2, 2), (2, 2), "valid", "max")
        w, b = (np.asarray(v, dtype="float64") for v in dense.weights)
        return h.reshape(1, -1) @ w + b

    def check():
        for _ in range(2):  # the second call takes the cached transform
            np.testing.assert_allclose(model.predict_on_batch(x), reference(), rtol=1e-4, atol=1e-4)

    check()
    before = np.asarray(conv.kernel).copy()
    model.train_on_batch(x, np.ones((1, 3), "float32"))
    assert not np.array_equal(np.asarray(conv.kernel), before)
    check()
    new_kernel = rng.normal(size=(3, 3, 8, 16)).astype("float32")
    conv.set_weights([new_kernel, np.full(16, 0.1, "float32")])
    check()
    new_kernel[0, 0, 0, :] += 5.0  # the layer holds its own copy
    check()
    conv.kernel.assign(new_kernel)
    check()


# ---- layer contract ---------------------------------------------------------------------

LAYER_CASES = [
    (layers.Conv1D, {"filters": 3, "kernel_size": 2, "padding": "causal"}, (2, 5, 2), (2, 5, 3), 2, 0),
    (layers.Conv2D, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}, (2, 5, 5, 2), (2, 3, 3, 3), 2, 0),
    (layers.Conv2D, {"filters": 4, "kernel_size": 1, "use_bias": False, "groups": 2}, (2, 3, 3, 2), (2, 3, 3, 4), 1, 0),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2}, (1, 3, 3, 3, 2), (1, 2, 2, 2, 2), 2, 0),
    (layers.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}, (2, 4, 3), (2, 9, 2), 2, 0),
    (layers.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 3, 3, 3), (2, 6, 6, 2), 2, 0),
    (layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2}, (1, 2, 2, 2, 3), (1, 3, 3, 3, 2), 2, 0),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 5, 5, 3), (2, 3, 3, 6), 2, 0),
    (layers.DepthwiseConv1D, {"kernel_size": 2}, (2, 5, 3), (2, 4, 3), 2, 0),
    (layers.SeparableConv2D, {"filters": 4, "kernel_size": 3}, (2, 5, 5, 3), (2, 3, 3, 4), 3, 0),
    (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 5, 3), (2, 5, 4), 3, 0),
    (layers.MaxPooling1D, {}, (2, 5, 3), (2, 2, 3), 0, 0),
    (layers.MaxPooling2D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 4, 4, 3), (2, 4, 4, 3), 0, 0),
    (layers.MaxPooling3D, {}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), 0, 0),
    (layers.AveragePooling1D, {"pool_size": 2}, (2, 5, 3), (2, 2, 3), 0, 0),
    (layers.AveragePooling2D, {"pool_size": 2, "data_format": "channels_first"}, (2, 3, 4, 4), (2, 3, 2, 2), 0, 0),
    (layers.AveragePooling3D, {"pool_size": 2, "padding": "same"}, (1, 3, 3, 3, 2), (1, 2, 2, 2, 2), 0, 0),
    (layers.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3), 0, 0),
    (layers.GlobalAveragePooling2D, {"keepdims": True}, (2, 4, 4, 3), (2, 1, 1, 3), 0, 0),
    (layers.GlobalAveragePooling3D, {}, (1, 2, 2, 2, 3), (1, 3), 0, 0),
    (layers.GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3), 0, 0),
    (layers.GlobalMaxPooling2D, {"data_format": "channels_first"}, (2, 3, 4, 4), (2, 3), 0, 0),
    (layers.GlobalMaxPooling3D, {}, (1, 2, 2, 2, 3), (1, 3), 0, 0),
    (layers.BatchNormalization, {}, (4, 3), (4, 3), 2, 2),
    (layers.BatchNormalization, {"axis": 1, "scale": False}, (4, 3, 2, 2), (4, 3, 2, 2), 1, 2),
    (layers.LayerNormalization, {}, (4, 3), (4, 3), 2, 0),
    (layers.GroupNormalization, {"groups": 2}, (2, 3, 4), (2, 3, 4), 2, 0),
    (layers.UnitNormalization, {}, (2, 3), (2, 3), 0, 0),
    (layers.ZeroPadding1D, {"padding": (1, 2)}, (2, 3, 2), (2, 6, 2), 0, 0),
    (layers.ZeroPadding2D, {}, (2, 3, 3, 2), (2, 5, 5, 2), 0, 0),
    (layers.ZeroPadding3D, {"padding": 1}, (1, 2, 2, 2, 2), (1, 4, 4, 4, 2), 0, 0),
    (layers.Cropping1D, {}, (2, 5, 2), (2, 3, 2), 0, 0),
    (layers.Cropping2D, {"cropping": ((1, 1), (0, 1))}, (2, 4, 4, 2), (2, 2, 3, 2), 0, 0),
    (layers.Cropping3D, {}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2), 0, 0),
    (layers.UpSampling1D, {}, (2, 3, 2), (2, 6, 2), 0, 0),
    (layers.UpSampling2D, {"interpolation": "bilinear"}, (2, 3, 3, 2), (2, 6, 6, 2), 0, 0),
    (layers.UpSampling3D, {"size": (1, 2, 1)}, (1, 2, 2, 2, 2), (1, 2, 4, 2, 2), 0, 0),
    (layers.SpatialDropout1D, {"rate": 0.5}, (2, 4, 3), (2, 4, 3), 0, 0),
    (layers.SpatialDropout2D, {"rate": 0.5}, (2, 4, 4, 3), (2, 4, 4, 3), 0, 0),
    (layers.SpatialDropout3D, {"rate": 0.5}, (1, 2, 2, 2, 3), (1, 2, 2, 2, 3), 0, 0),
    (layers.GaussianNoise, {"stddev": 0.1}, (2, 3), (2, 3), 0, 0),
    (layers.GaussianDropout, {"rate": 0.3}, (2, 3), (2, 3), 0, 0),
]


@pytest.mark.parametrize("cls,kwargs,input_shape,output_shape,trainable,non_trainable", LAYER_CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_layer_contract(cls, kwargs, input_shape, output_shape, trainable, non_trainable):
    run_layer_test(cls, kwargs, input_shape, output_shape, expected_num_trainable_weights=trainable, expected_num_non_trainable_weights=non_trainable)


def test_aliases_are_the_keras_classes():
    assert layers.Convolution2D is layers.Conv2D and layers.MaxPool2D is layers.MaxPooling2D
    assert layers.AvgPool1D is layers.AveragePooling1D and layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D and layers.SeparableConvolution2D is layers.SeparableConv2D


def test_batch_norm_moving_statistics_and_frozen_layer():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=3.0, scale=2.0, size=(64, 4)).astype("float32")
    bn = layers.BatchNormalization(momentum=0.5)
    y = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), np.sqrt(x.var(0) / (x.var(0) + 1e-3)), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    # Inference uses the moving statistics.
    mm, mv = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
    np.testing.assert_allclose(np.asarray(bn(x, training=False)), (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    # A frozen layer runs in inference mode even inside fit, and its statistics stay put.
    model = rkeras.Sequential([rkeras.Input((4,)), bn, layers.Dense(1)])
    bn.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((64, 1)), epochs=1, verbose=0)
    np.testing.assert_array_equal(np.asarray(bn.moving_mean), mm)
    np.testing.assert_array_equal(np.asarray(bn.moving_variance), mv)


def test_spatial_dropout_drops_whole_channels():
    rkeras.utils.set_random_seed(0)
    x = np.ones((8, 5, 5, 16), "float32")
    y = np.asarray(layers.SpatialDropout2D(0.5)(x, training=True))
    per_channel = y.reshape(8, 25, 16)
    assert np.all(per_channel.min(1) == per_channel.max(1)), "a channel was partly dropped"
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.2 < (y == 0).mean() < 0.8
    np.testing.assert_array_equal(np.asarray(layers.SpatialDropout2D(0.5)(x, training=False)), x)


def test_gaussian_noise_and_dropout_statistics():
    rkeras.utils.set_random_seed(1)
    x = np.ones((200, 100), "float32")
    noisy = np.asarray(layers.GaussianNoise(0.5)(x, training=True)) - 1
    assert abs(noisy.mean()) < 0.01 and abs(noisy.std() - 0.5) < 0.01
    dropped = np.asarray(layers.GaussianDropout(0.2)(x, training=True))
    assert abs(dropped.mean() - 1) < 0.01 and abs(dropped.std() - 0.5) < 0.01
    np.testing.assert_array_equal(np.asarray(layers.GaussianNoise(0.5)(x, training=False)), x)


# ---- end to end -------------------------------------------------------------------------

def test_cnn_on_bundled_digits_reaches_97_percent():
    rkeras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = rkeras.datasets.digits.load_data()
    x_train = x_train.reshape(-1, 8, 8, 1).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 8, 8, 1).astype("float32") / 255.0
    model = rkeras.Sequential(
        [
            rkeras.Input((8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=rkeras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=25, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f}"


# ---- bad input --------------------------------------------------------------------------

def test_conv2d_on_a_2d_input_is_a_value_error():
    with pytest.raises(ValueError, match="expected ndim=4|min_ndim=4"):
        layers.Conv2D(2, 3)(np.zeros((4, 5), "float32"))


def test_kernel_larger_than_the_padded_input_is_a_value_error():
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="negative|larger"):
        rkeras.Sequential([rkeras.Input((2, 2, 1)), layers.Conv2D(1, 3)])
    with pytest.raises(ValueError, match="larger"):
        layers.MaxPooling2D(3)(np.zeros((1, 2, 2, 1), "float32"))


@pytest.mark.parametrize("kwargs", [{"filters": 0, "kernel_size": 3}, {"filters": -2, "kernel_size": 3}, {"filters": 2, "kernel_size": 0}, {"filters": 2, "kernel_size": 3, "strides": 0}, {"filters": 2, "kernel_size": 3, "padding": "full"}, {"filters": 3, "kernel_size": 3, "groups": 2}])
def test_bad_conv_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        layers.Conv2D(**kwargs)


def test_bad_pooling_and_channel_arguments_are_value_errors():
    with pytest.raises(ValueError):
        layers.MaxPooling2D(pool_size=0)
    with pytest.raises(ValueError):
        layers.AveragePooling2D(2, strides=-1)
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="channels"):
        ops.conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 2, 4)))


# ---- issue 5 audit: behaviour checked against Keras 3.15 ----------------------------------

def test_compute_output_shape_checks_rank_and_kernel_size():
    """As Keras, shape inference alone rejects a wrong rank and a kernel larger than the input."""
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=2"):
        layers.Conv2D(2, 3).compute_output_shape((5, 3))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=2"):
        layers.Conv2DTranspose(2, 3).compute_output_shape((5, 3))
    with pytest.raises(ValueError, match="zero or negative"):
        layers.DepthwiseConv2D(7).compute_output_shape((2, 5, 5, 4))
    with pytest.raises(ValueError, match="zero or negative"):
        layers.SeparableConv2D(2, 7).compute_output_shape((2, 5, 5, 4))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        layers.AveragePooling1D(2).compute_output_shape((5, 3, 2, 2))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layers.GlobalMaxPooling2D().compute_output_shape((2, 3, 4))
    assert layers.SeparableConv2D(2, 3, strides=2, padding="same").compute_output_shape((None, 7, 5, 4)) == (None, 4, 3, 2)


def test_pooling_signatures_are_keras():
    import inspect

    for cls in (layers.AveragePooling1D, layers.AveragePooling2D, layers.AveragePooling3D):
        params = inspect.signature(cls.__init__).parameters
        assert list(params) == ["self", "pool_size", "strides", "padding", "data_format", "name", "kwargs"]
        assert params["pool_size"].default is inspect.Parameter.empty
        with pytest.raises(TypeError, match=f"{cls.__name__}.__init__"):
            cls()
    assert inspect.signature(layers.MaxPooling2D.__init__).parameters["pool_size"].default == (2, 2)


def test_causal_conv1d_channels_first_is_the_transposed_channels_last_conv():
    x = np.random.default_rng(0).normal(size=(2, 3, 9)).astype("float32")
    first = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, data_format="channels_first")
    last = layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
    first(x)
    last(x.transpose(0, 2, 1))
    last.set_weights(first.get_weights())
    np.testing.assert_allclose(np.asarray(first(x)), np.asarray(last(x.transpose(0, 2, 1))).transpose(0, 2, 1), rtol=1e-6)
    # output[t] depends on input[:t + 1] only.
    y = np.asarray(first(x))
    x2 = x.copy()
    x2[:, :, 5:] += 1
    np.testing.assert_array_equal(np.asarray(first(x2))[:, :, :5], y[:, :, :5])


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "lanczos3", "lanczos5"])
def test_upsampling_interpolations_reproduce_constants_and_have_gradients(interpolation):
    """Each kernel's weights are normalized: a constant image stays constant; and the weighted
    sum of gathers is differentiable (values against Keras are in the fixture tests)."""
    layer = layers.UpSampling2D((3, 2), interpolation=interpolation, dtype="float64")
    np.testing.assert_allclose(np.asarray(layer(np.full((1, 4, 5, 2), 2.5, "float32"))), 2.5, rtol=1e-6)
    x = np.random.default_rng(1).normal(size=(1, 3, 4, 1))
    w = np.random.default_rng(2).normal(size=(1, 9, 8, 1))
    finite_difference_check(lambda t: ops.sum(layer(t) * w), [x])


def test_upsampling_rejects_unknown_interpolations():
    with pytest.raises(ValueError, match="interpolation.*bicubic.*lanczos5.*Received: interpolation='area'"):
        layers.UpSampling2D(interpolation="area")
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling1D(interpolation="bilinear")


def test_group_norm_minus_one_is_instance_normalization():
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 6))
    layer = layers.GroupNormalization(groups=-1, epsilon=1e-3, dtype="float64")
    y = np.asarray(layer(x))
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10, atol=1e-12)
    assert layer.groups == 6 and layer.get_config()["groups"] == 6
    for bad in (0, -2, 2.0):
        with pytest.raises(ValueError, match="expected a positive integer \\(or `-1` for instance normalization\\)"):
            layers.GroupNormalization(groups=bad)


def test_batch_norm_masked_statistics_match_numpy():
    """Keras's masked moments: sums over the unmasked positions divided by (count + 1e-7)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    bn = layers.BatchNormalization(momentum=0.5, dtype="float64")
    y = np.asarray(bn(x, mask=mask, training=True))
    w = mask[..., None].astype(float)
    count = w.sum(axis=(0, 1)) + 1e-7
    mean = (x * w).sum(axis=(0, 1)) / count
    var = (((x - mean) * w) ** 2).sum(axis=(0, 1)) / count
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), 0.5 * mean, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), 0.5 + 0.5 * var, rtol=1e-12)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        bn(x, mask=np.ones((3, 5, 2), bool), training=True)


def test_batch_renormalization_arguments_and_weights():
    bn = layers.BatchNormalization(renorm=True)
    bn(np.zeros((2, 3), "float32"))
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev"]
    assert bn.get_config()["renorm_clipping"] == {} and layers.BatchNormalization().get_config()["renorm_clipping"] is None
    with pytest.raises(ValueError, match="invalid keys for `renorm_clipping`"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"r": 1})
    with pytest.raises(ValueError, match="rmax should be greater than rmin"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1, "rmin": 2})
    with pytest.raises(ValueError, match="dmax should be non-negative"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"dmax": -1})


def test_a_layer_frozen_before_it_is_built_is_not_trained():
    dense = layers.Dense(2)
    dense.trainable = False
    model = rkeras.Sequential([rkeras.Input((3,)), dense, layers.Dense(1)])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    before = dense.get_weights()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    for got, want in zip(dense.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    dense.trainable = True
    assert len(model.trainable_weights) == 4


def test_noise_and_dropout_rates_are_validated_as_keras():
    with pytest.raises(ValueError, match="between 0 and 1. Received: stddev=1.5"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.GaussianDropout(1.2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.SpatialDropout1D(-0.1)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_averages_unmasked_steps_only(data_format):
    x = np.random.default_rng(5).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    x[~mask] = np.inf  # masked values never reach the result
    want = np.where(mask[..., None], x, 0).sum(1) / mask.sum(1, keepdims=True)
    inputs = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    layer = layers.GlobalAveragePooling1D(data_format=data_format, keepdims=True)
    got = np.asarray(layer(inputs, mask=mask))
    np.testing.assert_allclose(got.reshape(2, 3), want, rtol=1e-6)
    assert layer.compute_mask(inputs, mask) is None


@pytest.mark.parametrize("cls, shape, data_format", [("SpatialDropout1D", (8, 20, 16), "channels_last"), ("SpatialDropout2D", (8, 16, 5, 5), "channels_first"), ("SpatialDropout3D", (8, 3, 3, 3, 16), "channels_last")])
def test_spatial_dropouts_drop_whole_feature_maps(cls, shape, data_format):
    rkeras.utils.set_random_seed(2)
    kwargs = {} if cls == "SpatialDropout1D" else {"data_format": data_format}
    layer = getattr(layers, cls)(0.25, **kwargs)
    x = np.ones(shape, "float32")
    y = np.asarray(layer(x, training=True))
    maps = y.reshape(shape[0], -1, shape[-1]) if data_format == "channels_last" else y.reshape(shape[0], shape[1], -1).transpose(0, 2, 1)
    assert np.all(maps.min(1) == maps.max(1)), "a feature map was partly dropped"
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and 0.1 < (maps[:, 0] == 0).mean() < 0.4
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same", "causal"]))
def test_explicit_padding_is_keras_rule(size, k, stride, dilation, padding):
    """The one padding rule (Rust core; layers and inference chains use it): TensorFlow's "same"
    gives ceil(size / stride) outputs with the odd pixel after, "causal" pads only before."""
    from rkeras._core import explicit_padding

    [(before, after)] = explicit_padding([size], [k], [stride], [dilation], padding)
    span = (k - 1) * dilation + 1
    if padding == "valid":
        assert (before, after) == (0, 0)
    elif padding == "causal":
        assert (before, after) == (span - 1, 0)
    else:
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        assert (before, after) == (total // 2, total - total // 2)
        assert (size + before + after - span) // stride + 1 == out


def test_explicit_padding_rejects_unknown_names():
    from rkeras._core import explicit_padding

    with pytest.raises(ValueError, match="'valid', 'same'"):
        explicit_padding([4], [2], [1], [1], "full")
