"""Dropout (seeded, inverted, active only in training) and ActivityRegularization."""

from rkeras import ops, random, regularizers
from rkeras.layers.layer import InputSpec, Layer

__all__ = ["ActivityRegularization", "Dropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs during training and scales the rest by 1/(1-rate);
    the identity at inference. `seed` makes the masks reproducible."""

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed) if self.rate > 0 else None

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            noise_shape = self.noise_shape
            if noise_shape is not None:
                noise_shape = tuple(inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape))
            return random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class ActivityRegularization(Layer):
    """Adds `l1·Σ|x| + l2·Σx²` of its input (divided by the batch size) to the model's losses."""

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per (sample, channel), broadcast over the spatial axes."""

    rank = None

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        from rkeras.ops._nn import normalize_data_format

        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            shape = tuple(inputs.shape)
            if self.data_format == "channels_last":
                noise_shape = (shape[0],) + (1,) * self.rank + (shape[-1],)
            else:
                noise_shape = shape[:2] + (1,) * self.rank
            return random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)
        return inputs

    def get_config(self):
        # Keras's keys exactly: no `trainable`, and `dtype` as the dtype's name.
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype, "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        kwargs.pop("data_format", None)
        super().__init__(rate, "channels_last", seed, name, dtype, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return config


class SpatialDropout2D(_SpatialDropout):
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    rank = 3


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` during training only."""

    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not 0 <= stddev <= 1:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a float value between 0 and 1. Received: stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed) if self.stddev > 0 else None

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return inputs + random.normal(tuple(inputs.shape), stddev=self.stddev, dtype=str(inputs.dtype), seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies by noise from N(1, rate / (1 − rate)) during training only."""

    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed) if 0 < self.rate < 1 else None

    def call(self, inputs, training=False):
        if training and 0 < self.rate < 1:
            stddev = (self.rate / (1.0 - self.rate)) ** 0.5
            return inputs * random.normal(tuple(inputs.shape), mean=1.0, stddev=stddev, dtype=str(inputs.dtype), seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
