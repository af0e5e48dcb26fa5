"""One converter per layer type and one per activation, each a few ONNX nodes.

A layer converter is ``fn(g, layer, x, shape) -> str``: ``g`` is the graph being built (a
:class:`tidu.onnx.export.GraphBuilder`: ``g.node``, ``g.const``, ``g.ints``, ``g.weight``,
``g.convert``, ``g.opset``), ``x`` the name of the layer's input value, ``shape`` its shape
(batch axis first, ``None`` where unknown); it returns the name of the layer's output.
Register one for your own layer with :func:`register_converter`. An activation converter is
``fn(g, x, shape, **params) -> str``; ``Dense(activation=...)`` and the activation layers
share them, so each function is written once.

This module does not import onnx: converters only call ``g``.
"""

from __future__ import annotations

import math

from ..errors import TiduError
from ..nn import Dense, Dropout, Flatten, Linear, Reshape, activations
from ..nn import Sequential as NNSequential
from ..nn.layers import activation as act_layers
from ..ops.nonlinearity import SELU_ALPHA, SELU_SCALE


class ExportError(TiduError, TypeError):
    """A model, layer or activation that tidu cannot export to ONNX (yet)."""


LAYER_CONVERTERS: dict[type, object] = {}


def register_converter(cls: type):
    """Decorator: use ``fn(g, layer, x, shape) -> str`` to export layers of class ``cls``.

    A subclass uses its nearest base class's converter only while it keeps that class's
    ``forward``; one that computes something else needs its own.

    >>> import tidu
    >>> from tidu.onnx import register_converter
    >>> class Double(tidu.nn.Module):
    ...     def forward(self, x):
    ...         return x * 2.0
    >>> @register_converter(Double)
    ... def _double(g, layer, x, shape):
    ...     return g.node("Mul", [x, g.const(2.0)])
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_converter: expected a layer class, got {cls!r}")

    def decorate(fn):
        LAYER_CONVERTERS[cls] = fn
        return fn

    return decorate


def converter_for(layer):
    """The converter of ``layer``'s class, or of a base class whose ``forward`` it keeps.

    Raises:
        ExportError: no converter applies; the message names the layer and its class.
    """
    cls = type(layer)
    for base in cls.__mro__:
        fn = LAYER_CONVERTERS.get(base)
        if fn is not None and getattr(cls, "forward", None) is getattr(base, "forward", None):
            return fn
    raise ExportError(
        f"tidu.onnx.export: cannot export layer '{getattr(layer, 'name', layer)}' of class "
        f"{cls.__module__}.{cls.__qualname__}: no ONNX converter for it yet; write one "
        f"with @tidu.onnx.register_converter({cls.__name__})"
    )


# ----- activations (by the names of tidu.nn.activations) -----

def _axis(axis: int, shape: tuple, what: str) -> int:
    n = len(shape)
    if not -n <= axis < n:
        raise ExportError(f"tidu.onnx.export: {what}: axis {axis} is out of range for input "
                          f"shape {shape}")
    return axis % n


def _identity(g, x, shape):
    return x


def _step(g, x, shape):
    return g.node("Cast", [g.node("Greater", [x, g.const(0.0)])], to=g.elem_type)


def _leaky_relu(g, x, shape, negative_slope=0.2):
    return g.node("LeakyRelu", [x], alpha=float(negative_slope))


def _elu(g, x, shape, alpha=1.0):
    return g.node("Elu", [x], alpha=float(alpha))


def _selu(g, x, shape):
    return g.node("Selu", [x], alpha=SELU_ALPHA, gamma=SELU_SCALE)


def _celu(g, x, shape, alpha=1.0):
    return g.node("Celu", [x], alpha=float(alpha))


def _gelu(g, x, shape, approximate="none"):
    if g.opset >= 20:
        return g.node("Gelu", [x], approximate=approximate)
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(0.044715)])])
        cdf = g.node("Tanh", [g.node("Mul", [inner, g.const(math.sqrt(2.0 / math.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        cdf = g.node("Erf", [g.node("Mul", [x, g.const(1.0 / math.sqrt(2.0))])])
    half = g.node("Mul", [x, g.const(0.5)])
    return g.node("Mul", [half, g.node("Add", [cdf, g.const(1.0)])])


def _silu(g, x, shape):
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def _mish(g, x, shape):
    if g.opset >= 18:
        return g.node("Mish", [x])
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


def _softplus(g, x, shape, beta=1.0, threshold=None):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (if given)."""
    z = x if beta == 1.0 else g.node("Mul", [x, g.const(beta)])
    y = g.node("Softplus", [z])
    if beta != 1.0:
        y = g.node("Div", [y, g.const(beta)])
    if threshold is None:
        return y
    return g.node("Where", [g.node("Greater", [z, g.const(threshold)]), x, y])


def _hardtanh(g, x, shape, min_val=-1.0, max_val=1.0):
    return g.node("Clip", [x, g.const(min_val), g.const(max_val)])


def _relu6(g, x, shape):
    return _hardtanh(g, x, shape, 0.0, 6.0)


def _hard_sigmoid(g, x, shape):  # relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
    return g.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)


def _hard_swish(g, x, shape):  # x * hard_sigmoid(x)
    if g.opset >= 14:
        return g.node("HardSwish", [x])
    return g.node("Mul", [x, _hard_sigmoid(g, x, shape)])


def _log_sigmoid(g, x, shape):  # -softplus(-x)
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [x])])])


def _softmax(g, x, shape, axis=-1):
    return g.node("Softmax", [x], axis=_axis(axis, shape, "softmax"))


def _log_softmax(g, x, shape, axis=-1):
    return g.node("LogSoftmax", [x], axis=_axis(axis, shape, "log_softmax"))


def _softmin(g, x, shape, axis=-1):
    return g.node("Softmax", [g.node("Neg", [x])], axis=_axis(axis, shape, "softmin"))


def _glu(g, x, shape, axis=-1):
    """a * sigmoid(b), a and b the two halves along ``axis`` (whose length must be known)."""
    axis = _axis(axis, shape, "glu")
    n = shape[axis]
    if n is None or n % 2:
        raise ExportError(f"tidu.onnx.export: glu needs a known, even length on axis {axis}, "
                          f"got input shape {shape}")
    ax = g.ints([axis])
    a = g.node("Slice", [x, g.ints([0]), g.ints([n // 2]), ax])
    b = g.node("Slice", [x, g.ints([n // 2]), g.ints([n]), ax])
    return g.node("Mul", [a, g.node("Sigmoid", [b])])


def _simple(op: str):
    def convert(g, x, shape):
        return g.node(op, [x])

    convert.__name__ = f"_{op.lower()}"
    return convert


ACTIVATIONS = {
    "linear": _identity, "relu": _simple("Relu"), "sigmoid": _simple("Sigmoid"),
    "tanh": _simple("Tanh"), "softmax": _softmax, "log_softmax": _log_softmax,
    "leaky_relu": _leaky_relu, "sign": _simple("Sign"), "step": _step, "elu": _elu,
    "selu": _selu, "celu": _celu, "gelu": _gelu, "glu": _glu, "silu": _silu, "mish": _mish,
    "softplus": _softplus, "softsign": _simple("Softsign"), "hard_sigmoid": _hard_sigmoid,
    "hard_silu": _hard_swish, "hard_tanh": _hardtanh, "relu6": _relu6,
    "log_sigmoid": _log_sigmoid, "exponential": _simple("Exp"),
}


def convert_activation(g, fn, x, shape, owner) -> str:
    """The nodes of an activation function of ``tidu.nn.activations`` (or its tidu op).

    Raises:
        ExportError: a callable without a name there; the message names ``owner``.
    """
    name = activations.serialize(fn)
    if name not in ACTIVATIONS:
        what = getattr(fn, "__qualname__", type(fn).__name__)
        raise ExportError(
            f"tidu.onnx.export: layer '{owner.name}' of class {type(owner).__name__} has the "
            f"activation {what!r}, which has no ONNX converter; use a named activation "
            f"({', '.join(sorted(ACTIVATIONS))}) or register a converter for the layer"
        )
    return ACTIVATIONS[name](g, x, shape)


# ----- layers -----

@register_converter(NNSequential)
def _sequential(g, layer, x, shape):
    for child in layer.layers:
        x, shape = g.convert(child, x, shape)
    return x


@register_converter(Dense)
def _dense(g, layer, x, shape):
    y = g.node("MatMul", [x, g.weight(layer.kernel.data, "kernel")])
    if layer.bias is not None:
        y = g.node("Add", [y, g.weight(layer.bias.data, "bias")])
    return convert_activation(g, layer.activation, y, (*shape[:-1], layer.units), layer)


@register_converter(Linear)
def _linear(g, layer, x, shape):
    y = g.node("MatMul", [x, g.weight(layer.weight.data.T, "weight_t")])
    if layer.bias is not None:
        y = g.node("Add", [y, g.weight(layer.bias.data, "bias")])
    return y


@register_converter(Dropout)
def _dropout(g, layer, x, shape):  # identity at inference
    return x


@register_converter(Flatten)
def _flatten(g, layer, x, shape):
    return g.node("Flatten", [x], axis=1)


@register_converter(Reshape)
def _reshape(g, layer, x, shape):  # 0 copies the batch size
    return g.node("Reshape", [x, g.ints([0, *layer.target_shape])])


@register_converter(act_layers.Activation)
def _activation(g, layer, x, shape):
    return convert_activation(g, layer.activation, x, shape, layer)


@register_converter(act_layers.PReLU)
def _prelu(g, layer, x, shape):  # one slope, or one per channel on axis 1
    w = layer.weight.data
    if w.size > 1:
        w = w.reshape((-1,) + (1,) * (len(shape) - 2))
    return g.node("PRelu", [x, g.weight(w, "weight")])


def _layer(fn, **attrs):
    """A layer converter that calls activation ``fn`` with the layer's ``attrs``."""

    def convert(g, layer, x, shape):
        return fn(g, x, shape, **{k: getattr(layer, a) for k, a in attrs.items()})

    return convert


_ACTIVATION_LAYERS = {
    act_layers.ReLU: _layer(ACTIVATIONS["relu"]),
    act_layers.Sigmoid: _layer(ACTIVATIONS["sigmoid"]),
    act_layers.Tanh: _layer(ACTIVATIONS["tanh"]),
    act_layers.Sign: _layer(ACTIVATIONS["sign"]),
    act_layers.Step: _layer(_step),
    act_layers.Softmax: _layer(_softmax, axis="axis"),
    act_layers.Softmin: _layer(_softmin, axis="axis"),
    act_layers.GLU: _layer(_glu, axis="axis"),
    act_layers.LeakyReLU: _layer(_leaky_relu, negative_slope="negative_slope"),
    act_layers.ELU: _layer(_elu, alpha="alpha"),
    act_layers.CELU: _layer(_celu, alpha="alpha"),
    act_layers.SELU: _layer(_selu),
    act_layers.GELU: _layer(_gelu, approximate="approximate"),
    act_layers.SiLU: _layer(_silu),
    act_layers.Mish: _layer(_mish),
    act_layers.Softplus: _layer(_softplus, beta="beta", threshold="threshold"),
    act_layers.Softsign: _layer(ACTIVATIONS["softsign"]),
    act_layers.Hardtanh: _layer(_hardtanh, min_val="min_val", max_val="max_val"),
    act_layers.ReLU6: _layer(_relu6),
    act_layers.Hardsigmoid: _layer(_hard_sigmoid),
    act_layers.Hardswish: _layer(_hard_swish),
    act_layers.LogSigmoid: _layer(_log_sigmoid),
}
for _cls, _fn in _ACTIVATION_LAYERS.items():
    register_converter(_cls)(_fn)
