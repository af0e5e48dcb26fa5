"""Activation functions by name, for ``Dense(..., activation='relu')`` and ``Activation``.

Each function maps a Tensor to a Tensor with tidu's ops, so the graph records the op
itself (a ``softmax`` output is a ``tidu.ops.activation.Softmax`` node, which losses detect
to fuse softmax with cross-entropy).

Names: 'linear' (or None: identity), 'relu', 'sigmoid', 'tanh', 'softmax', 'log_softmax',
'leaky_relu' (slope 0.2, Keras's ``activations.leaky_relu`` default), 'sign' (the
perceptron's -1/0/1) and 'step' (the threshold unit's 0/1, 1 where x > 0). 'sign' and 'step'
have zero gradient everywhere: a perceptron is trained with its own rule, not by
backpropagation.

>>> import tidu
>>> tidu.nn.activations.get("relu")(tidu.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from .. import ops
from ..autograd import Function
from ..backend import xp


def linear(x):
    """Identity (Keras's 'linear' activation): returns ``x`` itself."""
    return x


def relu(x):
    """max(x, 0)."""
    return ops.relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), finite for any input."""
    return ops.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent, range (-1, 1), zero centred."""
    return ops.tanh(x)


def softmax(x, axis: int = -1):
    """exp(x) / sum(exp(x)) along ``axis`` (the last by default)."""
    return ops.softmax(x, axis)


def log_softmax(x, axis: int = -1):
    """log(softmax(x)), computed stably."""
    return ops.log_softmax(x, axis)


def leaky_relu(x, negative_slope: float = 0.2):
    """x for x > 0, ``negative_slope * x`` otherwise (Keras's default slope 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def sign(x):
    """-1, 0 or 1 (the perceptron's f(x) = sign(w.x + b)); zero gradient."""
    return ops.sign(x)


class Heaviside(Function):
    """1 where x > 0, else 0; its gradient is zero everywhere (undefined at 0)."""

    def forward(self, x):
        return (x > 0).astype(x.dtype if xp.issubdtype(x.dtype, xp.floating) else "float32")

    def backward(self, g):
        return xp.zeros_like(g)

    @staticmethod
    def vjp(g, x):
        return g * 0.0


def step(x):
    """The threshold unit of the M-P neuron: 1 where x > 0, else 0; zero gradient."""
    return Heaviside.apply(x)


_BY_NAME = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "leaky_relu": leaky_relu, "sign": sign, "step": step,
}
# tidu's own functions map to the same names, so Dense(activation=tidu.relu) serializes
_ALIASES = {ops.relu: "relu", ops.sigmoid: "sigmoid", ops.tanh: "tanh",
            ops.softmax: "softmax", ops.log_softmax: "log_softmax", ops.sign: "sign"}


def get(identifier):
    """The activation function for a name, a callable, or None ('linear').

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a name nor a callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"unknown activation '{identifier}'; known names: "
                             f"{sorted(_BY_NAME)}, or pass a callable")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name such as 'relu', a callable or None, got "
                    f"{type(identifier).__name__}")


def serialize(fn) -> str | None:
    """The name of a known activation function, or None for any other callable."""
    for table in (((f, n) for n, f in _BY_NAME.items()), _ALIASES.items()):
        for f, name in table:
            if f is fn:
                return name
    return None
