"""Convolution layers: Conv1D/2D/3D (fused conv + bias + activation in one Rust call), their
transposes, depthwise and separable convolutions, under Keras 3's names, arguments, defaults and
weight layouts (kernel (*kernel_size, in/groups, filters); transposed (*kernel_size, filters, in))."""

from rkeras import activations, constraints, initializers, ops, regularizers
from rkeras.layers.core import _fused_name, _positive_int
from rkeras.layers.layer import InputSpec, Layer
from rkeras.ops import _nn
from rkeras.saving.serialization_lib import serialize_keras_object

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Convolution1D",
    "Convolution1DTranspose",
    "Convolution2D",
    "Convolution2DTranspose",
    "Convolution3D",
    "Convolution3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]


def _padding(value, rank, allow_causal, layer):
    padding = str(value).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError(f"{layer}: the `padding` argument must be one of {allowed}. Received: padding={value!r}")
    return padding


class _ConvBase(Layer):
    """What every convolution shares: argument checks, the channel axis, output shapes."""

    rank = None
    allow_causal = False

    def __init__(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        self.kernel_size = _nn.normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _nn.normalize_tuple(strides, self.rank, "strides")
        self.dilation_rate = _nn.normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{name}: `strides > 1` is not compatible with `dilation_rate > 1`. Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = _padding(padding, self.rank, self.allow_causal, name)
        self.data_format = _nn.normalize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=self.rank + 2)

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: expected ndim={self.rank + 2}, found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")

    def _input_channels(self, input_shape):
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: the channel dimension of the inputs should be defined. Found None in input shape {tuple(input_shape)}.")
        return channels

    def _spatial(self, shape):
        return shape[1:-1] if self.data_format == "channels_last" else shape[2:]

    def _output_spatial(self, input_shape):
        """The output's spatial sizes for a (non-transposed) convolution; a kernel larger than
        the padded input is a ValueError, as in Keras."""
        self._check_rank(input_shape)
        spatial = [_nn.output_length(size, k, s, d, self.padding) for size, k, s, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)]
        if any(s is not None and s <= 0 for s in spatial):
            raise ValueError(f"Layer {self.name!r}: computed output size would be zero or negative ({spatial}) for input shape {tuple(input_shape)}, kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}, strides={self.strides}, padding={self.padding!r}.")
        return spatial

    def _with_spatial(self, input_shape, spatial, channels):
        if self.data_format == "channels_last":
            return (input_shape[0],) + tuple(spatial) + (channels,)
        return (input_shape[0], channels) + tuple(spatial)

    def _add_bias(self, size):
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(size,), initializer=self.bias_initializer, regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _bias_and_activation(self, outputs):
        if self.bias is not None:
            shape = [1] * len(outputs.shape)
            shape[self._channel_axis] = self.bias.shape[0]
            outputs = ops.add(outputs, ops.reshape(self.bias, tuple(shape)))
        return self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "bias_regularizer": serialize_keras_object(self.bias_regularizer),
                "activity_regularizer": serialize_keras_object(self.activity_regularizer),
                "bias_constraint": serialize_keras_object(self.bias_constraint),
            }
        )
        return config


class _Conv(_ConvBase):
    """`activation(conv(inputs, kernel) + bias)`; one fused Rust call for the built-in activations."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        name = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {name}. Expected a strictly positive value. Received filters={filters!r}.")
        self.filters = filters
        self.groups = _positive_int(groups, "groups", name)
        if filters % self.groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. Received: groups={self.groups}, filters={filters}.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self._fused_activation = _fused_name(self.activation)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of groups. Received groups={self.groups}, but the input has {channels} channels (full input shape is {tuple(input_shape)}).")
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels // self.groups, self.filters), initializer=self.kernel_initializer, regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        act = self._fused_activation or "linear"
        if self.data_format == "channels_last" and len(inputs.shape) == self.rank + 2:
            outputs = _nn.conv_channels_last(inputs, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, self.groups, act)
        else:
            outputs = _nn.conv(inputs, self.kernel, self.strides, self.padding, self.data_format, self.dilation_rate, bias=self.bias, activation=act, groups=self.groups)
        return outputs if self._fused_activation else self.activation(outputs)

    def _native_step(self):
        """This layer's step of an inference plan run in Rust (models/inference_plan.py, which
        guarantees the input's dtype and rank): the fused kernel, or None to call the layer."""
        if self.data_format != "channels_last" or self._fused_activation is None:
            return None
        return ("conv", self.kernel, self.bias, list(self.strides), list(self.dilation_rate), self.groups, self.padding, self._fused_activation)

    def compute_output_shape(self, input_shape):
        return self._with_spatial(input_shape, self._output_spatial(input_shape), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": serialize_keras_object(self.kernel_regularizer),
                "kernel_constraint": serialize_keras_object(self.kernel_constraint),
            }
        )
        return config


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); `padding="causal"` pads only the start of
    the time axis (for either data format)."""

    rank = 1
    allow_causal = True


class Conv2D(_Conv):
    """2-D convolution over (batch, rows, cols, channels); kernel (kh, kw, in/groups, filters)."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution over (batch, d, h, w, channels)."""

    rank = 3


class _ConvTranspose(_ConvBase):
    """Transposed convolution (the gradient of a convolution w.r.t. its input)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        name = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {name}. Expected a strictly positive value. Received filters={filters!r}.")
        self.filters = filters
        self.output_padding = None if output_padding is None else _nn.normalize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{name}: each `output_padding` must be smaller than the stride. Received output_padding={self.output_padding}, strides={self.strides}.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (self.filters, channels), initializer=self.kernel_initializer, regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        outputs = _nn.conv_transpose(inputs, self.kernel, self.strides, self.padding, self.output_padding, self.data_format, self.dilation_rate)
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        pads = self.output_padding or (None,) * self.rank
        spatial = [_nn.conv_transpose_length(size, k, s, d, self.padding, p) for size, k, s, d, p in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate, pads)]
        return self._with_spatial(input_shape, spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "output_padding": self.output_padding,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": serialize_keras_object(self.kernel_regularizer),
                "kernel_constraint": serialize_keras_object(self.kernel_constraint),
            }
        )
        return config


class Conv1DTranspose(_ConvTranspose):
    rank = 1


class Conv2DTranspose(_ConvTranspose):
    rank = 2


class Conv3DTranspose(_ConvTranspose):
    rank = 3

    # Keras orders data_format before output_padding here (not in the 1-D and 2-D layers).
    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None, output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class _DepthwiseConv(_ConvBase):
    """Each input channel convolved with its own `depth_multiplier` filters (a grouped conv)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self._fused_activation = _fused_name(self.activation)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, self.depth_multiplier), initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self._add_bias(channels * self.depth_multiplier)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        channels = self.kernel.shape[-2]
        grouped = ops.reshape(self.kernel, self.kernel_size + (1, channels * self.depth_multiplier))
        act = self._fused_activation or "linear"
        outputs = _nn.conv(inputs, grouped, self.strides, self.padding, self.data_format, self.dilation_rate, bias=self.bias, activation=act, groups=channels)
        return outputs if self._fused_activation else self.activation(outputs)

    def compute_output_shape(self, input_shape):
        channels = self._input_channels(input_shape)
        return self._with_spatial(input_shape, self._output_spatial(input_shape), channels * self.depth_multiplier)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": serialize_keras_object(self.depthwise_regularizer),
                "depthwise_constraint": serialize_keras_object(self.depthwise_constraint),
            }
        )
        return config


class DepthwiseConv1D(_DepthwiseConv):
    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    rank = 2


class _SeparableConv(_ConvBase):
    """A depthwise convolution, then a pointwise (1×…×1) convolution to `filters` channels."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        name = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {name}. Expected a strictly positive value. Received filters={filters!r}.")
        self.filters = filters
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", name)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self._fused_activation = _fused_name(self.activation)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(name="depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier), initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(name="pointwise_kernel", shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters), initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.built = True

    def call(self, inputs):
        if inputs.dtype != self.compute_dtype:
            inputs = ops.cast(inputs, self.compute_dtype)
        depthwise = _nn.depthwise_conv(inputs, self.depthwise_kernel, self.strides, self.padding, self.data_format, self.dilation_rate)
        act = self._fused_activation or "linear"
        outputs = _nn.conv(depthwise, self.pointwise_kernel, 1, "valid", self.data_format, bias=self.bias, activation=act)
        return outputs if self._fused_activation else self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return self._with_spatial(input_shape, self._output_spatial(input_shape), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": serialize_keras_object(self.depthwise_regularizer),
                "pointwise_regularizer": serialize_keras_object(self.pointwise_regularizer),
                "depthwise_constraint": serialize_keras_object(self.depthwise_constraint),
                "pointwise_constraint": serialize_keras_object(self.pointwise_constraint),
            }
        )
        return config


class SeparableConv1D(_SeparableConv):
    rank = 1


class SeparableConv2D(_SeparableConv):
    rank = 2


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
