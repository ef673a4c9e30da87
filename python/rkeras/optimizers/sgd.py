"""SGD with optional (Nesterov) momentum: m = μ·m − lr·g; θ += m (or θ += μ·m − lr·g)."""

from rkeras.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    _rule = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor, gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _build_slots(self, var_list):
        if self.momentum == 0.0:
            return [[] for _ in var_list]
        self.momentums = self.add_optimizer_variables(var_list, "momentum")
        return [[m] for m in self.momentums]

    def _rule_args(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
