"""`run_layer_test`: Keras's per-layer contract in one helper.

Checks, for a layer class and constructor arguments:
  * get_config → from_config → get_config is the identity;
  * eager call on random data: output shape and dtype; trainable/non-trainable weight counts;
    unique weight paths;
  * symbolic call on `Input`: the same output shape with a None batch dimension;
  * `compute_output_shape` (when the layer defines it) agrees with the eager output;
  * training check (when it has trainable weights): a few SGD steps in a Sequential model on a
    fixed target reduce the loss.
"""

import numpy as np

import rkeras


def _random_inputs(input_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(input_shape, list):
        return [rng.normal(size=s).astype(dtype) for s in input_shape]
    return rng.normal(size=input_shape).astype(dtype)


def _without_batch(shape):
    return (None,) + tuple(shape[1:])


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, expected_output_dtype="float32", input_dtype="float32", input_data=None, run_training_check=True):
    # Config round trip.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config, "get_config → from_config → get_config changed the config"

    # Eager call.
    x = input_data if input_data is not None else _random_inputs(input_shape, input_dtype)
    y = layer(x)
    assert tuple(y.shape) == tuple(expected_output_shape), f"eager output shape {tuple(y.shape)} != {expected_output_shape}"
    assert str(y.dtype) == expected_output_dtype, f"eager output dtype {y.dtype} != {expected_output_dtype}"
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    paths = [w.path for w in layer.weights]
    assert len(paths) == len(set(paths)), f"duplicate weight paths {paths}"
    assert layer.count_params() == sum(int(np.prod(w.shape)) for w in layer.weights)

    # Symbolic call.
    sym_layer = layer_cls(**init_kwargs)
    if isinstance(input_shape, list):
        inputs = [rkeras.Input(batch_shape=_without_batch(s)) for s in input_shape]
    else:
        inputs = rkeras.Input(batch_shape=_without_batch(input_shape), dtype=input_dtype)
    sym = sym_layer(inputs)
    assert tuple(sym.shape) == _without_batch(expected_output_shape), f"symbolic output shape {tuple(sym.shape)}"
    assert str(sym.dtype) == expected_output_dtype

    # compute_output_shape agrees with the eager result.
    if type(layer).compute_output_shape is not rkeras.layers.Layer.compute_output_shape:
        computed = layer.compute_output_shape(input_shape)
        assert tuple(computed) == tuple(expected_output_shape)

    if run_training_check and expected_num_trainable_weights and not isinstance(input_shape, list):
        _training_check(layer_cls, init_kwargs, input_shape, x)
    return layer, y


def _training_check(layer_cls, init_kwargs, input_shape, x):
    rkeras.utils.set_random_seed(1)
    model = rkeras.Sequential([rkeras.Input(batch_shape=_without_batch(input_shape)), layer_cls(**init_kwargs)])
    model.compile(optimizer=rkeras.optimizers.SGD(0.05), loss="mse")
    target = np.asarray(model.predict(x, verbose=0)) * 0.5 + 0.25
    before = model.evaluate(x, target, verbose=0)
    model.fit(x, target, epochs=5, batch_size=len(x), verbose=0)
    after = model.evaluate(x, target, verbose=0)
    assert after < before, f"training did not reduce the loss ({before} -> {after})"
