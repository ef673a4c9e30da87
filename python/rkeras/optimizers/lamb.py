"""Lamb (Keras 3): Adam's moments and bias-corrected direction u = m̂/(√v̂ + ε), scaled per
variable by the trust ratio ‖θ‖/‖u‖ (1 when either norm is 0): θ −= ratio·lr·u."""

from rkeras.optimizers.optimizer import Optimizer


class Lamb(Optimizer):
    _rule = "lamb"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def _build_slots(self, var_list):
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        return [[m, v] for m, v in zip(self._momentums, self._velocities)]

    def _rule_args(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        config = super().get_config()
        config.update(self._rule_args())
        return config
