"""Nadam (Keras 3): Adam with Nesterov momentum on the schedule μ_t = β₁(1 − ½·0.96ᵗ):
m̂ = μ_{t+1}·m/(1 − Πμ·μ_{t+1}) + (1 − μ_t)·g/(1 − Πμ), v̂ = v/(1 − β₂ᵗ), θ −= lr·m̂/(√v̂ + ε).
The running product Πμ is an optimizer variable (`u_product`), as in Keras."""

import numpy as np

from rkeras.optimizers.optimizer import Optimizer
from rkeras.variables import Variable


class Nadam(Optimizer):
    _rule = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)

    def _build_slots(self, var_list):
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._u_product = self._track(Variable(np.asarray(1.0, np.float32), name="u_product", trainable=False))
        return [[m, v] for m, v in zip(self._momentums, self._velocities)]

    def _before_update(self, iterations):
        factor = self.beta_1 * (1.0 - 0.5 * 0.96 ** (iterations + 1))
        self._u_product.assign(np.asarray(float(self._u_product.numpy()) * factor, np.float32))

    def _rule_args(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "u_product": float(self._u_product.numpy())}

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
