"""Activation functions by name, for ``Dense(..., activation='relu')`` and ``Activation``.

Each function maps a Tensor to a Tensor with tidu's ops, so the graph records the op
itself (a ``softmax`` output is a ``tidu.ops.activation.Softmax`` node, which losses detect
to fuse softmax with cross-entropy).

Names: 'linear' (or None: identity), 'relu', 'sigmoid', 'tanh', 'softmax', 'log_softmax',
'leaky_relu' (slope 0.2, Keras's ``activations.leaky_relu`` default), 'sign' (the
perceptron's -1/0/1) and 'step' (the threshold unit's 0/1, 1 where x > 0). 'sign' and 'step'
have zero gradient everywhere: a perceptron is trained with its own rule, not by
backpropagation. Keras 3's other names, with its defaults: 'elu', 'selu', 'celu', 'gelu'
(exact unless ``approximate=True``), 'glu', 'silu' and 'swish', 'mish', 'softplus',
'softsign', 'hard_sigmoid' (relu6(x + 3) / 6), 'hard_silu' and 'hard_swish', 'hard_tanh',
'relu6', 'log_sigmoid' and 'exponential'.

>>> import tidu
>>> tidu.nn.activations.get("relu")(tidu.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from .. import ops, registry
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


def elu(x, alpha: float = 1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return ops.elu(x, alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants (use with lecun_normal weights)."""
    return ops.selu(x)


def celu(x, alpha: float = 1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return ops.celu(x, alpha)


def gelu(x, approximate: bool = False):
    """x * Phi(x); ``approximate=True`` uses the tanh form (Keras's flag for PyTorch's
    ``approximate='tanh'``)."""
    return ops.gelu(x, "tanh" if approximate else "none")


def glu(x, axis: int = -1):
    """a * sigmoid(b) for the two halves a, b of ``x`` along ``axis``."""
    return ops.glu(x, axis)


def silu(x):
    """x * sigmoid(x) (also 'swish')."""
    return ops.silu(x)


def mish(x):
    """x * tanh(softplus(x))."""
    return ops.mish(x)


def softplus(x):
    """log(1 + exp(x)), finite for any input."""
    return ops.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return ops.softsign(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3 and PyTorch; Keras 2 used 0.2 x + 0.5)."""
    return ops.hard_sigmoid(x)


def hard_silu(x):
    """x * relu6(x + 3) / 6 (also 'hard_swish')."""
    return ops.hard_swish(x)


def hard_tanh(x):
    """x clipped to [-1, 1]."""
    return ops.hardtanh(x)


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.relu6(x)


def log_sigmoid(x):
    """log(sigmoid(x)), computed as -softplus(-x)."""
    return ops.log_sigmoid(x)


def exponential(x):
    """exp(x)."""
    return ops.exp(x)


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
    "elu": elu, "selu": selu, "celu": celu, "gelu": gelu, "glu": glu, "silu": silu,
    "swish": silu, "mish": mish, "softplus": softplus, "softsign": softsign,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_silu,
    "hard_tanh": hard_tanh, "relu6": relu6, "log_sigmoid": log_sigmoid,
    "exponential": exponential,
}
# tidu's own functions map to the same names, so Dense(activation=tidu.relu) serializes
# (only those whose defaults are the named activation's)
_ALIASES = {ops.relu: "relu", ops.sigmoid: "sigmoid", ops.tanh: "tanh",
            ops.softmax: "softmax", ops.log_softmax: "log_softmax", ops.sign: "sign",
            ops.elu: "elu", ops.selu: "selu", ops.celu: "celu", ops.gelu: "gelu",
            ops.glu: "glu", ops.silu: "silu", ops.mish: "mish", ops.softplus: "softplus",
            ops.softsign: "softsign", ops.hard_sigmoid: "hard_sigmoid",
            ops.hard_swish: "hard_silu", ops.hardtanh: "hard_tanh", ops.relu6: "relu6",
            ops.log_sigmoid: "log_sigmoid", ops.exp: "exponential"}


def get(identifier):
    """The activation function for a name, a callable, or None ('linear').

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a name nor a callable.
    """
    return registry.resolve("activation", identifier)


registry.define_kind(
    "activation", where="activations.get", base=None, classes={}, aliases=_BY_NAME,
    make=lambda found, name, alias: found, wrap=lambda fn: fn, none=linear,
    expected="a name such as 'relu', a callable or None", hint=", or pass a callable")


def serialize(fn) -> str | None:
    """The name of a known activation function (built-in or registered), or None for any
    other callable."""
    for table in (((f, n) for n, f in _BY_NAME.items()), _ALIASES.items()):
        for f, name in table:
            if f is fn:
                return name
    return registry.function_name(fn, "activation")
