"""Adagrad (Keras 3): a += g²; θ −= lr·g/√(a + ε), the accumulator starting at
`initial_accumulator_value`."""

import numpy as np

from rkeras.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    _rule = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)

    def _build_slots(self, var_list):
        self._accumulators = self.add_optimizer_variables(var_list, "accumulator")
        for a in self._accumulators:
            a.assign(np.full(a.shape, self.initial_accumulator_value, str(a.dtype)))
        return [[a] for a in self._accumulators]

    def _rule_args(self):
        return {"epsilon": self.epsilon}

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
