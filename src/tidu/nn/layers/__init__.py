"""Layers: dense, activation, dropout, reshaping, convolution, pooling, spatial and
normalization layers, and the Sequential container."""

from . import conv as _conv
from . import normalization as _normalization
from . import pooling as _pooling
from . import spatial as _spatial
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Activation,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
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
from .container import Sequential
from .conv import *
from .dense import Dense, Linear
from .dropout import Dropout
from .normalization import *
from .pooling import *
from .reshaping import Flatten, Reshape
from .spatial import *

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "LeakyReLU", "Linear", "ReLU",
           "Reshape", "Sequential", "Sigmoid", "Sign", "Softmax", "Step", "Tanh"]
__all__ += ["CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh",
            "LogSigmoid", "Mish", "PReLU", "ReLU6", "SELU", "SiLU", "Softmin", "Softplus",
            "Softsign"]
__all__ += [n for m in (_conv, _pooling, _spatial, _normalization) for n in m.__all__]
