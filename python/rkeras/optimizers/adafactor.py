"""Adafactor (Keras 3). Variables of rank ≥ 2 keep factored second moments over their last two
axes, r (shape[:-1], row means of g² + ε₁) and c (shape[:-2] + shape[-1:], column means), decayed
with β₂ₜ = 1 − t^beta_2_decay; v = (r / mean(r))·c. Variables of rank < 2 keep v itself (and, as
in Keras, two unused integer scalars in place of r and c, so the saved variable layout matches).
Step: θ −= max(ε₂, rms(θ))·ρ · u / max(1, rms(u)/clip_threshold), u = g/√v, ρ = min(lr, 1/√t).
Keras applies the 1/√t clamp again in ρ whatever `relative_step` is, so the flag does not change
the step; it is kept for the configuration."""

import numpy as np

from rkeras.optimizers.optimizer import Optimizer
from rkeras.variables import Variable


class Adafactor(Optimizer):
    _rule = "adafactor"

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = float(epsilon_1)
        self.epsilon_2 = float(epsilon_2)
        self.clip_threshold = float(clip_threshold)
        self.relative_step = bool(relative_step)

    def _build_slots(self, var_list):
        self._r, self._c, self._v = [], [], []
        slots = []
        for var in var_list:
            shape = tuple(var.shape)
            if len(shape) < 2:
                r = self._track(Variable(np.zeros((), np.int32), name=var.name, trainable=False))
                c = self._track(Variable(np.zeros((), np.int32), name=var.name, trainable=False))
            else:
                r = self.add_variable(shape[:-1], dtype=var.dtype, name=var.name)
                c = self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name=var.name)
            v = self.add_variable_from_reference(var, "velocity")
            self._r.append(r)
            self._c.append(c)
            self._v.append(v)
            slots.append([r, c, v] if len(shape) >= 2 else [v])
        return slots

    def _rule_args(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold}

    def get_config(self):
        config = super().get_config()
        config.update({**self._rule_args(), "relative_step": self.relative_step})
        return config
