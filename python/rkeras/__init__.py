"""rkeras: Keras-compatible deep learning whose compute core is a multithreaded Rust crate.

`import rkeras as keras` and write Keras code; tensors, autograd and kernels run in Rust.
"""

from rkeras import _core
from rkeras._core import Tensor
from rkeras import backend, config, ops, random, tree, utils
from rkeras.tape import GradientTape
from rkeras.variables import Variable
from rkeras import activations, constraints, initializers, regularizers
from rkeras import dtype_policies, saving
from rkeras import losses, metrics, optimizers, callbacks
from rkeras import layers, models, datasets
from rkeras.dtype_policies import DTypePolicy
from rkeras.initializers import Initializer
from rkeras.layers import Input, InputSpec, Layer
from rkeras.losses import Loss
from rkeras.metrics import Metric
from rkeras.models import Model, Sequential
from rkeras.optimizers import Optimizer
from rkeras.regularizers import Regularizer
from rkeras.symbolic import KerasTensor

__version__ = "0.1.0"
version = lambda: __version__  # noqa: E731  (Keras exposes both)

__all__ = [
    "Tensor", "Variable", "GradientTape", "KerasTensor", "DTypePolicy", "Initializer", "Input", "InputSpec", "Layer",
    "Loss", "Metric", "Model", "Sequential", "Optimizer", "Regularizer", "activations", "backend", "callbacks",
    "config", "constraints", "datasets", "dtype_policies", "initializers", "layers", "losses", "metrics", "models",
    "ops", "optimizers", "random", "regularizers", "saving", "tree", "utils", "version",
]
