"""Neural-network building blocks: Parameter, Module (Layer), layers, initializers,
regularizers and activations.

``Module`` is the base of every layer and model: Parameters and sub-Modules assigned to its
attributes are registered in order; weights that depend on the input are created lazily
by ``build(input_shape)`` on the first call (Keras style) or eagerly in ``__init__``
(PyTorch style).
"""

from . import activations, functional, initializers, losses, regularizers
from .layers import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Activation,
    Dense,
    Dropout,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    Linear,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Reshape,
    Sequential,
    Sigmoid,
    Sign,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Step,
    Tanh,
)
from .layers.container import ModuleDict, ParameterList
from .layers.conv import *
from .layers.normalization import *
from .layers.pooling import *
from .layers.spatial import *
from .losses import *  # CrossEntropyLoss, MSELoss, ...: PyTorch's loss modules
from .module import IncompatibleKeys, Layer, Module, ModuleList
from .parameter import Parameter

__all__ = [
    "Activation", "Dense", "Dropout", "Flatten", "IncompatibleKeys", "Layer", "LeakyReLU",
    "Linear", "Module", "ModuleList", "Parameter", "ReLU", "Reshape", "Sequential", "Sigmoid",
    "Sign", "Softmax", "Step", "Tanh", "activations", "initializers", "regularizers",
]
__all__ += ["CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid",
            "Mish", "PReLU", "ReLU6", "SELU", "SiLU", "Softmin", "Softplus", "Softsign"]
__all__ += ["ModuleDict", "ParameterList", "functional", "losses"] + losses.__all__
from .layers import _conv, _normalization, _pooling, _spatial  # noqa: E402

__all__ += [n for m in (_conv, _pooling, _spatial, _normalization) for n in m.__all__]
from . import init, utils  # noqa: E402  (torch.nn.init, torch.nn.utils)
