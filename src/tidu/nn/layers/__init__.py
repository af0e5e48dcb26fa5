"""Layers: dense, activation, dropout, reshaping, and the Sequential container."""

from .activation import Activation, LeakyReLU, ReLU, Sigmoid, Sign, Softmax, Step, Tanh
from .container import Sequential
from .dense import Dense, Linear
from .dropout import Dropout
from .reshaping import Flatten, Reshape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "LeakyReLU", "Linear", "ReLU",
           "Reshape", "Sequential", "Sigmoid", "Sign", "Softmax", "Step", "Tanh"]
