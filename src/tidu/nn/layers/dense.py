"""Fully connected layers: Keras's Dense (lazy, kernel (in, out)) and PyTorch's Linear."""

from __future__ import annotations

import math

from ... import ops
from ...backend import xp
from ...errors import ShapeError
from ...ops.affine import Affine
from ...random import get_generator
from ...tensor import Tensor
from .. import activations, initializers, regularizers
from .._utils import normalize_shape
from ..module import Module
from ..parameter import Parameter


def _positive_int(value, what: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return value


_RELU, _LINEAR = activations.relu, activations.linear


def _check_last_dim(layer: Module, x, expected: int) -> None:
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ShapeError(
            f"{layer.name}: expected an input whose last dimension is {expected}, got an "
            f"input of shape {tuple(x.shape)}"
            + ("" if x.ndim else "; give a batch, e.g. x.reshape(1, -1)")
        )


class Dense(Module):
    """Fully connected layer: ``activation(x @ kernel + bias)`` (Keras).

    The kernel has shape (in_features, units) and is created on the first call from the
    input's last dimension, or at once when ``input_shape``/``input_dim`` is given.

    Args:
        units: number of outputs.
        activation: None/'linear', a name ('relu', 'sigmoid', 'tanh', 'softmax',
            'leaky_relu', 'sign', 'step') or a callable on Tensors.
        use_bias: add a bias vector.
        kernel_initializer, bias_initializer: initializer names or instances.
        kernel_regularizer, bias_regularizer: e.g. ``tidu.nn.regularizers.L2(0.01)``.
        input_shape: shape of one sample, e.g. (784,): builds the layer now.
        input_dim: same as ``input_shape=(input_dim,)``.
        name: layer name (default 'dense', 'dense_1', ...).

    Shape:
        - Input: (batch, ..., in_features).
        - Output: (batch, ..., units).

    >>> import numpy as np, tidu
    >>> layer = tidu.nn.Dense(3, activation="relu", input_shape=(4,))
    >>> layer.kernel.shape, layer.bias.shape
    ((4, 3), (3,))
    >>> layer(np.ones((2, 4), dtype=np.float32)).shape
    (2, 3)
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 input_dim: int | None = None, name: str | None = None):
        super().__init__(name=name)
        self.units = _positive_int(units, "units", self.name)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None
        if input_dim is not None:
            if input_shape is not None:
                raise ValueError(f"{self.name}: give input_shape or input_dim, not both")
            input_shape = (_positive_int(input_dim, "input_dim", self.name),)
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        if not input_shape or input_shape[-1] is None:
            raise ShapeError(f"{self.name}: the last dimension of the input must be known to "
                             f"create the kernel, got input shape {input_shape}")
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def forward(self, x):
        kernel = self.kernel
        act = self.activation
        if x.__class__ is Tensor:  # eager: one fused node (symbolic inputs keep the ops)
            d = x.data
            if d.ndim == 0 or d.shape[-1] != kernel.data.shape[0]:
                _check_last_dim(self, x, kernel.shape[0])  # raises, naming the layer
            bias = self.bias
            relu = act is _RELU or act is ops.relu
            y = Affine.apply(x, kernel, bias, relu=relu) if bias is not None else \
                Affine.apply(x, kernel, relu=relu)
            return y if relu or act is _LINEAR else act(y)
        _check_last_dim(self, x, kernel.shape[0])
        y = ops.matmul(x, kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if self.kernel is not None and shape and shape[-1] not in (None, self.kernel.shape[0]):
            raise ShapeError(f"{self.name}: expected an input whose last dimension is "
                             f"{self.kernel.shape[0]}, got input shape {shape}")
        return (*shape[:-1], self._activated_units())

    def _activated_units(self) -> int:
        """Units after the activation: most keep them, some (glu) change the last axis."""
        from ...autograd import no_grad

        with no_grad():
            return self.activation(Tensor(xp.zeros((1, self.units), xp.float32))).shape[-1]

    def extra_repr(self) -> str:
        act = activations.serialize(self.activation) or getattr(
            self.activation, "__name__", type(self.activation).__name__)
        return f"units={self.units}, activation={act!r}, name={self.name!r}"


class Linear(Module):
    """Fully connected layer, PyTorch style: ``x @ weight.T + bias``, built at construction.

    Parameters are named and shaped as in ``torch.nn.Linear``: ``weight``
    (out_features, in_features) and ``bias`` (out_features,), so a PyTorch state dict loads
    directly (after ``.numpy()``). Both are drawn from U(-1/sqrt(in_features),
    1/sqrt(in_features)), PyTorch's default (kaiming_uniform with a = sqrt(5)), using tidu's
    generator.

    Args:
        in_features: size of each input's last axis.
        out_features: size of each output's last axis.
        bias: add a bias vector.
        name: layer name (default 'linear', 'linear_1', ...).

    Shape:
        - Input: (batch, ..., in_features).
        - Output: (batch, ..., out_features).

    >>> import tidu
    >>> layer = tidu.nn.Linear(4, 5)
    >>> layer.weight.shape, layer(tidu.ones(2, 4)).shape
    ((5, 4), (2, 5))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 name: str | None = None):
        super().__init__(name=name)
        self.in_features = _positive_int(in_features, "in_features", self.name)
        self.out_features = _positive_int(out_features, "out_features", self.name)
        bound = 1.0 / math.sqrt(self.in_features)
        rng = get_generator()
        w = rng.uniform(-bound, bound, (self.out_features, self.in_features))
        self.weight = Parameter(w.astype("float32"), name=f"{self.name}/weight")
        self.bias = None
        if bias:
            b = rng.uniform(-bound, bound, (self.out_features,))
            self.bias = Parameter(b.astype("float32"), name=f"{self.name}/bias")
        self._build_input_shape = (None, self.in_features)

    def forward(self, x):
        _check_last_dim(self, x, self.in_features)
        y = ops.matmul(x, ops.transpose(self.weight))
        if self.bias is not None:
            y = y + self.bias
        return y

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if shape and shape[-1] not in (None, self.in_features):
            raise ShapeError(f"{self.name}: expected an input whose last dimension is "
                             f"{self.in_features}, got input shape {shape}")
        return (*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
