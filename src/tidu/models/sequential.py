"""Sequential: a stack of layers that can be compiled and trained."""

from __future__ import annotations

from .. import nn
from .model import Model


class Sequential(Model, nn.Sequential):
    """A linear stack of layers with Keras's training API.

    >>> import tidu
    >>> from tidu.nn import Dense
    >>> model = tidu.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> [tuple(p.shape) for p in model.parameters()]
    [(3, 4), (4,), (4, 2), (2,)]
    """
