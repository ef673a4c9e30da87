"""RMSprop (Keras 3): v = ρ·v + (1−ρ)·g²; Δ = lr·g/√(v + ε) (centered: √(v − a² + ε) with
a = ρ·a + (1−ρ)·g); with momentum m = μ·m + Δ and θ −= m, else θ −= Δ."""

from rkeras.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    _rule = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)
        self.centered = bool(centered)

    def _build_slots(self, var_list):
        # Keras's order: all velocities, then all momentums, then all average gradients.
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        slots = [[v] for v in self._velocities]
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
            for s, m in zip(slots, self._momentums):
                s.append(m)
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")
            for s, a in zip(slots, self._average_gradients):
                s.append(a)
        return slots

    def _rule_args(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config
