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
    statistics otherwise. A layer with `trainable=False` runs in inference mode, even in `fit`.

    `renorm=True` is batch renormalization (Ioffe 2017) as Keras does it: in training the batch
    normalization is corrected by r = σ_B/σ_R and d = (μ_B − μ_R)/σ_R (clipped by
    `renorm_clipping`, no gradient) against renorm moving statistics (`renorm_momentum`), and
    the inference statistics are kept as a moving standard deviation."""

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization: `axis` must be a single integer. Received: axis={axis!r}")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        # One device: synchronized statistics are the batch statistics.
        self.synchronized = bool(synchronized)
        self.renorm = bool(renorm)
        if self.renorm:
            renorm_clipping = dict(renorm_clipping or {})
            keys = ["rmax", "rmin", "dmax"]
            if set(renorm_clipping) - set(keys):
                raise ValueError(f"Received invalid keys for `renorm_clipping` argument: {renorm_clipping}. Supported values: {keys}.")
            rmax, rmin, dmax = (renorm_clipping.get(k) for k in keys)
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(f"rmax should be greater than rmin in the `renorm_clipping` argument. Received: rmax={rmax}, rmin={rmin}.")
            if dmax is not None and dmax < 0:
                raise ValueError(f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}.")
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        axis = _axis_index(self.axis, len(input_shape), self.name)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: axis {self.axis} of the input should be defined. Found None in input shape {tuple(input_shape)}.")
        shape = (channels,)
        self._add_gamma_beta(shape)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape, initializer=self.moving_variance_initializer, trainable=False)
        if self.renorm:
            variance_init = self.moving_variance_initializer

            def stddev_init(shape, dtype=None):
                return ops.sqrt(variance_init(shape, dtype=dtype))

            self.moving_stddev = self.add_weight(name="moving_stddev", shape=shape, initializer=stddev_init, trainable=False)
            self.renorm_mean = self.add_weight(name="renorm_mean", shape=shape, initializer=self.moving_mean_initializer, trainable=False)
            self.renorm_stddev = self.add_weight(name="renorm_stddev", shape=shape, initializer=stddev_init, trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(f"The mask provided should be one dimension less than the inputs. Received: mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        axis = self.axis % len(inputs.shape)
        if not (training and self.trainable):
            return _nn.batch_normalization(inputs, self.moving_mean, self.moving_variance, axis, self.beta, self.gamma, self.epsilon)
        if self.renorm:
            return self._renorm_training(inputs, mask, axis)
        if mask is None:
            outputs, mean, variance = _nn.batch_norm_training(inputs, self.gamma, self.beta, axis, self.epsilon)
        else:
            mean, variance = self._masked_moments(inputs, mask, axis)
            outputs = _nn.batch_normalization(inputs, mean, variance, axis, self.beta, self.gamma, self.epsilon)
        self._fold(self.moving_mean, mean, self.momentum)
        self._fold(self.moving_variance, variance, self.momentum)
        return outputs

    @staticmethod
    def _fold(variable, value, momentum):
        variable.assign(variable * momentum + ops.stop_gradient(value) * (1.0 - momentum))

    def _renorm_training(self, inputs, mask, axis):
        if mask is None:
            mean, variance = _nn.moments(inputs, tuple(i for i in range(len(inputs.shape)) if i != axis))
        else:
            mean, variance = self._masked_moments(inputs, mask, axis)
        stddev = ops.sqrt(variance + self.epsilon)
        renorm_stddev = ops.maximum(self.renorm_stddev, self.epsilon ** 0.5)
        r = ops.stop_gradient(stddev / renorm_stddev)
        d = ops.stop_gradient((mean - self.renorm_mean) / renorm_stddev)
        clipping = self.renorm_clipping
        if clipping.get("rmin") is not None:
            r = ops.maximum(r, clipping["rmin"])
        if clipping.get("rmax") is not None:
            r = ops.minimum(r, clipping["rmax"])
        if clipping.get("dmax") is not None:
            d = ops.clip(d, -clipping["dmax"], clipping["dmax"])
        # (x̂·r + d)·γ + β = x̂·(r·γ) + (d·γ + β)
        gamma = r if self.gamma is None else r * self.gamma
        beta = d if self.gamma is None else d * self.gamma
        if self.beta is not None:
            beta = beta + self.beta
        outputs = _nn.batch_normalization(inputs, mean, variance, axis, beta, gamma, self.epsilon)
        self._fold(self.renorm_mean, mean, self.renorm_momentum)
        self._fold(self.renorm_stddev, stddev, self.renorm_momentum)
        self._fold(self.moving_mean, mean, self.momentum)
        self._fold(self.moving_stddev, stddev, self.momentum)
        # The inference variance follows the moving stddev (ReLU against rounding below zero).
        self.moving_variance.assign(ops.relu(self.moving_stddev * self.moving_stddev - self.epsilon))
        return outputs

    @staticmethod
    def _masked_moments(inputs, mask, axis):
        """Moments over the unmasked positions only (as Keras, counts offset by 1e-7)."""
        weights = ops.cast(mask, inputs.dtype)
        while len(weights.shape) < len(inputs.shape):
            weights = ops.expand_dims(weights, -1)
        weights = ops.broadcast_to(weights, tuple(inputs.shape))
        axes = tuple(i for i in range(len(inputs.shape)) if i != axis)
        count = ops.sum(weights, axis=axes) + 1e-7
        mean = ops.sum(inputs * weights, axis=axes) / count
        shape = [1] * len(inputs.shape)
        shape[axis] = inputs.shape[axis]
        centered = (inputs - ops.reshape(mean, tuple(shape))) * weights
        variance = ops.sum(centered * centered, axis=axes) / count
        return mean, variance

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
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
                "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
            }
        )
        return config


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
        self._axes(len(input_shape))  # validates
        # As Keras: `axis` becomes a sorted list, which also orders the weights' dimensions.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
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
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= a < len(input_shape):
                raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon, "rms_scaling": self.rms_scaling})
        return config


class GroupNormalization(_ScaleCenter):
    """Splits the channels (`axis`) into `groups` and normalizes each group of each sample over
    its channels and all other non-batch axes; gamma/beta per channel. `groups=-1` is one group
    per channel (instance normalization)."""

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"Received an invalid value for argument `groups`, expected a positive integer (or `-1` for instance normalization). Received: groups={groups!r}")
        self.groups = groups
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        axis = _axis_index(self.axis, len(input_shape), self.name)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: axis {self.axis} of the input tensor should have a defined dimension but the layer received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = channels  # instance normalization
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
