"""Layers: dense, activation, dropout, reshaping, and the Sequential container."""

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
from .dense import Dense, Linear
from .dropout import Dropout
from .reshaping import Flatten, Reshape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "LeakyReLU", "Linear", "ReLU",
           "Reshape", "Sequential", "Sigmoid", "Sign", "Softmax", "Step", "Tanh"]
__all__ += ["CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh",
            "LogSigmoid", "Mish", "PReLU", "ReLU6", "SELU", "SiLU", "Softmin", "Softplus",
            "Softsign"]
