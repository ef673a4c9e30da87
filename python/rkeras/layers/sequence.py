"""Sequence layers: Embedding (`mask_zero`), Masking, and the wrappers TimeDistributed and
Bidirectional, under Keras 3's names, arguments and weight layouts."""

import warnings

import numpy as np

from rkeras import constraints, initializers, ops, regularizers
from rkeras.layers.core import _positive_int
from rkeras.layers.layer import InputSpec, Layer, name_scope
from rkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = ["Bidirectional", "Embedding", "Masking", "TimeDistributed"]


class Embedding(Layer):
    """Maps integer ids in [0, input_dim) to rows of a (input_dim, output_dim) matrix. With
    `mask_zero=True`, id 0 is padding: the output mask is `ids != 0`."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        if lora_rank is not None:
            raise ValueError("Embedding: LoRA (`lora_rank`) is not supported by rkeras.")
        if quantization_config is not None:
            raise ValueError(f"Embedding: quantized layers are not supported by rkeras. Received: quantization_config={quantization_config!r}")
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = _positive_int(output_dim, "output_dim", "Embedding")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False
        if weights is not None:
            # As Keras: built at once with the given matrix (a bare array or a one-item list).
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        ids = ops.convert_to_tensor(inputs)
        if not str(ids.dtype).startswith(("int", "uint")):
            ids = ops.cast(ids, "int64")
        values = np.asarray(ids)
        if values.size and (values.min() < 0 or values.max() >= self.input_dim):
            bad = values.max() if values.max() >= self.input_dim else values.min()
            raise IndexError(f"Layer {self.name!r}: index {int(bad)} is out of range for an Embedding with input_dim={self.input_dim} (valid ids are 0..{self.input_dim - 1}).")
        return ops.take(self.embeddings, ids, axis=0)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(ops.convert_to_tensor(inputs), 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize_keras_object(self.embeddings_regularizer),
                "activity_regularizer": serialize_keras_object(self.activity_regularizer),
                "embeddings_constraint": serialize_keras_object(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "quantization_config": None,
            }
        )
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value` (and zeroes them)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return inputs * ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class _Wrapper(Layer):
    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `{type(self).__name__}` layer with a `keras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        if "backward_layer" in config and config["backward_layer"] is not None:
            config["backward_layer"] = deserialize_keras_object(config["backward_layer"], custom_objects=custom_objects)
        return cls(**config)


class TimeDistributed(_Wrapper):
    """Applies `layer` to every timestep: (batch, time, ...) → layer on (batch·time, ...) in one
    call. When the layer's output depends on the whole batch (a BatchNormalization in training),
    it runs once per timestep as in Keras, so each step is normalized with its own statistics."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, received: {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            with name_scope(self.name, caller=self):
                self.layer.build(child)
            self.layer.built = True
        self.built = True

    def _per_step(self, training):
        from rkeras.layers.normalization import BatchNormalization

        return bool(training) and any(isinstance(sub, BatchNormalization) and sub.trainable for sub in self.layer._flatten_layers())

    def call(self, inputs, training=None, mask=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        if mask is not None:
            if len(mask.shape) < 2:
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., `(batch_size, timesteps)`), but it has {len(mask.shape)} dimension(s) with shape {tuple(mask.shape)}.")
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} that is incompatible with the input shape {tuple(inputs.shape)}. The first two dimensions of the mask (batch size and timesteps) must match the input's first two dimensions. Expected mask shape prefix: ({batch}, {steps}).")
        # The layer gets the mask of its own timestep(s) if its call takes one (Layer.__call__ drops it otherwise).
        if self._per_step(training):
            outputs = [self.layer(inputs[:, t], training=training, mask=None if mask is None else mask[:, t]) for t in range(steps)]
            return ops.stack(outputs, axis=1)
        flat_mask = None if mask is None else ops.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        flat = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        outputs = self.layer(flat, training=training, mask=flat_mask)
        return ops.reshape(outputs, (batch, steps) + tuple(outputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (inner[0], input_shape[1]) + tuple(inner[1:])


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(_Wrapper):
    """Runs an RNN forwards and a copy of it backwards and merges the two
    (`merge_mode`: "concat" (default), "sum", "mul", "ave" or None for a list)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        super().__init__(layer, **kwargs)
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of {{'sum', 'mul', 'ave', 'concat', None}}")
        for sub in (layer, backward_layer):
            if sub is not None and not all(hasattr(sub, a) for a in ("go_backwards", "return_sequences", "return_state", "stateful")):
                raise ValueError(f"`Bidirectional` wraps a recurrent layer (an `RNN`, `LSTM`, `GRU`, ...). Received: {sub}")
        # Fresh copies from the config (no state carried over), named as Keras names them.
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": "forward_" + _removeprefix(layer.name, "forward_")})
        if backward_layer is None:
            self.backward_layer = type(layer).from_config({**config, "name": "backward_" + _removeprefix(layer.name, "backward_"), "go_backwards": True})
        else:
            self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different `go_backwards` value. Received: forward_layer.go_backwards {self.forward_layer.go_backwards}, backward_layer.go_backwards={self.backward_layer.go_backwards}")
        for a in ("stateful", "return_sequences", "return_state"):
            fw, bw = getattr(self.forward_layer, a), getattr(self.backward_layer, a)
            if fw != bw:
                raise ValueError(f'Forward layer and backward layer are expected to have the same value for attribute "{a}", got "{fw}" for forward layer and "{bw}" for backward layer')
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                # As Keras: masked steps output zeros when whole sequences are returned.
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._initial_weights = weights
        self.input_spec = layer.input_spec

    def build(self, input_shape):
        with name_scope(self.name, caller=self):
            self.forward_layer.build(input_shape)
            self.backward_layer.build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _merge(self, forward, backward):
        if self.return_sequences:
            backward = ops.flip(backward, axis=1)
        if self.merge_mode == "concat":
            return ops.concatenate([forward, backward], axis=-1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "ave":
            return (forward + backward) / 2
        if self.merge_mode == "mul":
            return forward * backward
        return [forward, backward]

    def call(self, inputs, initial_state=None, mask=None, training=None):
        kwargs = {"mask": mask, "training": training}
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = initial_state[:half], initial_state[half:]
        else:
            fw_state = bw_state = None
        forward = self.forward_layer(inputs, initial_state=fw_state, **kwargs)
        backward = self.backward_layer(inputs, initial_state=bw_state, **kwargs)
        if self.return_state:
            states = list(forward[1:]) + list(backward[1:])
            forward, backward = forward[0], backward[0]
        output = self._merge(forward, backward)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None, **kwargs):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:]) * 2
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        output = [tuple(shape), tuple(shape)] if self.merge_mode is None else tuple(shape)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if self.return_state:
            n = len(self.forward_layer.cell.state_size) if isinstance(self.forward_layer.cell.state_size, list) else 1
            return (output_mask if isinstance(output_mask, list) else [output_mask]) + [None] * (2 * n)
        return output_mask

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize_keras_object(self.forward_layer)
        config["backward_layer"] = serialize_keras_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        layer_config = layer.get_config()
        if layer_config["name"].startswith("forward_"):
            layer = type(layer).from_config({**layer_config, "name": layer_config["name"][len("forward_"):]})
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_keras_object(backward, custom_objects=custom_objects)
        return cls(layer, backward_layer=backward, **config)

