"""Normalization layers: BatchNormalization (one fused Rust kernel in training), Layer-, Group-
and UnitNormalization, under Keras 3's names, defaults and weight orders."""

import warnings

from rkeras import constraints, initializers, ops, regularizers
from rkeras.layers.layer import InputSpec, Layer
from rkeras.ops import _nn
from rkeras.saving.serialization_lib import serialize_keras_object

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "UnitNormalization"]


def _axis_index(axis, rank, layer):
    if not -rank <= axis < rank:
        raise ValueError(f"Layer {layer!r}: invalid axis {axis} for an input of rank {rank}.")
    return axis % rank


class _ScaleCenter(Layer):
    """gamma/beta arguments shared by the normalizations."""

    def __init__(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs):
        super().__init__(**kwargs)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _add_gamma_beta(self, shape):
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer, regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer, regularizer=self.beta_regularizer, constraint=self.beta_constraint) if self.center else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": serialize_keras_object(self.beta_regularizer),
                "gamma_regularizer": serialize_keras_object(self.gamma_regularizer),
                "beta_constraint": serialize_keras_object(self.beta_constraint),
                "gamma_constraint": serialize_keras_object(self.gamma_constraint),
            }
        )
        return config


class BatchNormalization(_ScaleCenter):
    """Normalizes with the batch statistics in training (and folds them into the moving mean and
    variance: `moving = moving·momentum + batch·(1 − momentum)`, biased variance), with the moving
    statistics otherwise. A layer with `trainable=False` runs in inference mode, even in `fit`."""

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if renorm:
            raise ValueError("BatchNormalization: batch renormalization (`renorm=True`) is not supported by rkeras.")
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization: `axis` must be a single integer. Received: axis={axis!r}")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)

    def build(self, input_shape):
        axis = _axis_index(self.axis, len(input_shape), self.name)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: axis {self.axis} of the input should be defined. Found None in input shape {tuple(input_shape)}.")
        self._add_gamma_beta((channels,))
        self.moving_mean = self.add_weight(name="moving_mean", shape=(channels,), initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=(channels,), initializer=self.moving_variance_initializer, trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        axis = self.axis % len(inputs.shape)
        if training and self.trainable:
            if mask is None:
                outputs, mean, variance = _nn.batch_norm_training(inputs, self.gamma, self.beta, axis, self.epsilon)
            else:
                mean, variance = self._masked_moments(inputs, mask, axis)
                outputs = _nn.batch_normalization(inputs, mean, variance, axis, self.beta, self.gamma, self.epsilon)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + ops.stop_gradient(mean) * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + ops.stop_gradient(variance) * (1.0 - m))
            return outputs
        return _nn.batch_normalization(inputs, self.moving_mean, self.moving_variance, axis, self.beta, self.gamma, self.epsilon)

    @staticmethod
    def _masked_moments(inputs, mask, axis):
        """Moments over the unmasked positions only (as Keras)."""
        weights = ops.cast(mask, inputs.dtype)
        while len(weights.shape) < len(inputs.shape):
            weights = ops.expand_dims(weights, -1)
        weights = ops.broadcast_to(weights, tuple(inputs.shape))
        axes = tuple(i for i in range(len(inputs.shape)) if i != axis)
        count = ops.maximum(ops.sum(weights, axis=axes), 1e-12)
        mean = ops.sum(inputs * weights, axis=axes) / count
        shape = [1] * len(inputs.shape)
        shape[axis] = inputs.shape[axis]
        centered = inputs - ops.reshape(mean, tuple(shape))
        variance = ops.sum(centered * centered * weights, axis=axes) / count
        return mean, variance

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "synchronized": self.synchronized,
                "renorm": False,
                "renorm_clipping": None,
                "renorm_momentum": 0.99,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("renorm") is False:
            config.pop("renorm_clipping", None)
            config.pop("renorm_momentum", None)
        return super().from_config(config)


class LayerNormalization(_ScaleCenter):
    """Normalizes each sample over `axis` (default the last): (x − mean)/√(var + ε)·γ + β.
    With the deprecated `rms_scaling=True`: x/√(var + ε)·γ (no centering; as Keras)."""

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated (it scales the input by the variance, not the root mean square), as in Keras.", stacklevel=2)

    def _axes(self, rank):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return sorted(_axis_index(a, rank, self.name) for a in axes)

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"Layer {self.name!r}: the normalized axes {self.axis} of the input must be defined. Received input shape {tuple(input_shape)}.")
        if self.rms_scaling:
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer, regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
            self.beta = None
        else:
            self._add_gamma_beta(shape)
        self.built = True

    def _broadcast(self, w, inputs, axes):
        shape = [1] * len(inputs.shape)
        for a in axes:
            shape[a] = inputs.shape[a]
        return ops.reshape(w, tuple(shape))

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        axes = self._axes(len(inputs.shape))
        if self.rms_scaling:
            # Keras's (deprecated) rms_scaling divides by the standard deviation, not the RMS.
            variance = ops.var(inputs, axis=tuple(axes), keepdims=True)
            return inputs / ops.sqrt(variance + self.epsilon) * self._broadcast(self.gamma, inputs, axes)
        mean, variance = _nn.moments(inputs, tuple(axes), keepdims=True)
        outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * self._broadcast(self.gamma, inputs, axes)
        if self.beta is not None:
            outputs = outputs + self._broadcast(self.beta, inputs, axes)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon, "rms_scaling": self.rms_scaling})
        return config


class GroupNormalization(_ScaleCenter):
    """Splits the channels (`axis`) into `groups` and normalizes each group of each sample over
    its channels and all other non-batch axes; gamma/beta per channel."""

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"GroupNormalization: `groups` must be a positive integer. Received: groups={groups!r}")
        self.groups = groups
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        axis = _axis_index(self.axis, len(input_shape), self.name)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: axis {self.axis} of the input tensor should have a defined dimension but the layer received an input with shape {tuple(input_shape)}.")
        if self.groups > channels:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({channels}).")
        if channels % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({channels}).")
        self._add_gamma_beta((channels,))
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        rank = len(inputs.shape)
        axis = self.axis % rank
        shape = tuple(inputs.shape)
        channels = shape[axis]
        grouped_shape = shape[:axis] + (self.groups, channels // self.groups) + shape[axis + 1:]
        grouped = ops.reshape(inputs, grouped_shape)
        # Reduce over every axis but the batch and the group axis.
        axes = tuple(i for i in range(1, rank + 1) if i != axis)
        mean, variance = _nn.moments(grouped, axes, keepdims=True)
        normalized = ops.reshape((grouped - mean) / ops.sqrt(variance + self.epsilon), shape)
        param_shape = [1] * rank
        param_shape[axis] = channels
        if self.gamma is not None:
            normalized = normalized * ops.reshape(self.gamma, tuple(param_shape))
        if self.beta is not None:
            normalized = normalized + ops.reshape(self.beta, tuple(param_shape))
        return normalized

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, "epsilon": self.epsilon})
        return config


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: x / max(‖x‖, 1e-12)."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        norm = ops.sqrt(ops.sum(ops.square(inputs), axis=axis, keepdims=True))
        return inputs / ops.maximum(norm, 1e-12)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis})
        return config
