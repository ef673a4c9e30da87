"""rkeras: Keras-compatible deep learning whose compute core is a multithreaded Rust crate.

`import rkeras as keras` and write Keras code; tensors, autograd and kernels run in Rust.
"""

from rkeras import _core
from rkeras._core import Tensor
from rkeras import backend, config, ops, random, tree, utils
from rkeras.tape import GradientTape
from rkeras.variables import Variable

__version__ = "0.1.0"

__all__ = ["Tensor", "Variable", "GradientTape", "config", "ops", "random", "tree", "utils"]
