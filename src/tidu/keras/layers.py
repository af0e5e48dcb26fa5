"""``keras.layers``: tidu's layers, plus ``Layer`` (a tidu Module that accepts Keras's
``call`` and ``add_weight(shape=...)``) and the merging layers ``Concatenate`` and ``Add``."""

from __future__ import annotations

from .. import ops
from ..models.keras_style import install_call
from ..nn import Module
from ..nn import layers as _nn_layers
from ..nn._utils import _classes
from ..nn.layers import (
    ELU,
    Activation,
    Dense,
    Flatten,
    LeakyReLU,
    ReLU,
    Reshape,
    Softmax,
    _conv,
    _normalization,
    _pooling,
    _spatial,
)
from ..nn.layers.conv import *  # noqa: F403
from ..nn.layers.normalization import *  # noqa: F403
from ..nn.layers.pooling import *  # noqa: F403
from ..nn.layers.spatial import *  # noqa: F403
from ..tensor import Tensor
from ._functional import functional_name


class Layer(Module):
    """Base class for Keras-style custom layers: define ``build(input_shape)`` and
    ``call(inputs)`` (or ``forward``). ``add_weight`` takes Keras's keywords too
    (``add_weight(shape=(3, 4), initializer='zeros', trainable=True, name='w')``)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        install_call(cls)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   regularizer=None, name: str | None = None, **kwargs):
        """Keras's ``add_weight(shape, initializer, dtype, trainable, regularizer, name)``;
        a first argument that is a string is tidu's ``add_weight(name, shape, ...)``."""
        if isinstance(shape, str):  # tidu's order: add_weight(name, shape, initializer, ...)
            name, shape = shape, kwargs.pop("shape", initializer)
            initializer = kwargs.pop("initializer", "glorot_uniform")
        unknown = set(kwargs) - {"autocast", "constraint", "aggregation"}
        if unknown or kwargs.get("constraint") is not None:
            raise TypeError(f"{self.name}: add_weight does not support "
                            f"{sorted(unknown) or ['constraint']}")
        if shape is None:
            raise TypeError(f"{self.name}: add_weight needs shape=, got None")
        if name is None:
            name, i = "variable", 0
            while name in self.__dict__:
                i += 1
                name = f"variable_{i}"
        return super().add_weight(name, shape, initializer or "glorot_uniform",
                                  regularizer=regularizer, trainable=trainable, dtype=dtype)


class Dropout(_nn_layers.Dropout):
    """tidu's Dropout that also takes Keras's call argument: ``dropout(x, training=...)``
    (True drops, False passes through; None follows the layer's mode, ``layer.training``)."""

    def forward(self, x, training=None):
        if training is None or bool(training) == self.training:
            return super().forward(x)
        was = self.training
        self.training = bool(training)
        try:
            return super().forward(x)
        finally:
            self.training = was


_classes["Dropout"] = _nn_layers.Dropout  # saved files name tidu's Dropout, which loads back


class _Merge(Layer):
    """Base of layers that take a list of tensors."""

    def __call__(self, inputs, *args, **kwargs):
        from ..models.nodes import is_symbolic

        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"{self.name}: expects a list of tensors, got "
                            f"{type(inputs).__name__}")
        if len(inputs) < 2:
            raise ValueError(f"{self.name}: expects a list of at least 2 inputs, got "
                             f"{len(inputs)}")
        if not is_symbolic(inputs):  # arrays become Tensors; symbolic ones are recorded
            inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        return super().__call__(list(inputs), *args, **kwargs)


class Concatenate(_Merge):
    """Join a list of tensors along ``axis`` (default -1), as ``keras.layers.Concatenate``."""

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name=name)
        self.axis = int(axis)

    def forward(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)


class Add(_Merge):
    """Sum a list of tensors of the same shape, as ``keras.layers.Add``."""

    def forward(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


def concatenate(inputs, axis: int = -1, **kwargs):
    """Keras's functional form: ``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Keras's functional form: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def __getattr__(name: str):
    return functional_name(name, "tidu.keras.layers")


__all__ = ["ELU", "Activation", "Add", "Concatenate", "Dense", "Dropout", "Flatten", "Layer",
           "LeakyReLU", "ReLU", "Reshape", "Softmax", "add", "concatenate"]
__all__ += [n for m in (_conv, _pooling, _spatial, _normalization) for n in m.__all__]
