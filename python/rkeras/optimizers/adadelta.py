"""Adadelta (Keras 3): E[g²] = ρ·E[g²] + (1−ρ)·g²; Δ = −√(E[Δ²] + ε)·g/√(E[g²] + ε);
E[Δ²] = ρ·E[Δ²] + (1−ρ)·Δ²; θ += lr·Δ."""

from rkeras.optimizers.optimizer import Optimizer


class Adadelta(Optimizer):
    _rule = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.rho = float(rho)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)

    def _build_slots(self, var_list):
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(var_list, ["accumulated_grad", "accumulated_delta_var"])
        return [[g, d] for g, d in zip(self._accumulated_grads, self._accumulated_delta_vars)]

    def _rule_args(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
