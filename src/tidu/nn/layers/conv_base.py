"""What the convolution layers share: argument checks, shape arithmetic and weight creation.

``_KerasConv`` is the base of the Keras layers (kernel_size, strides, padding, data_format and
the channel axis, the input and output shape checks, the bias, the call to
``ops.convolution``); ``_TorchConv`` is the base of the PyTorch layers (their arguments and
the weights made at construction, drawn as torch draws them); ``_conv_length`` is one output
length of a convolution. The layers themselves are in :mod:`tidu.nn.layers.conv`, which
imports these; their own module to keep conv.py short.
"""

from __future__ import annotations

import math

from ...errors import ShapeError
from ...ops import convolution as C
from ...random import get_generator
from .. import activations, initializers, regularizers
from .._utils import normalize_shape
from ..module import Module
from ..parameter import Parameter

_ints = C._tuple  # (value, rank, what, layer, minimum=1): an int or a tuple of ints


def _conv_length(n, k: int, s: int, d: int, padding) -> int | None:
    """One output length of a convolution ('same', 'valid' or a (before, after) pair)."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    lo, hi = (0, 0) if padding == "valid" else padding
    return max((n + lo + hi - d * (k - 1) - 1) // s + 1, 0)


# ----- Keras style -----
class _KerasConv(Module):
    """What Keras's convolutions share: arguments, the channel axis, shape checks."""

    rank = 2

    def _setup(self, kernel_size, strides, padding, data_format, dilation_rate, activation,
               use_bias, bias_initializer, bias_regularizer) -> None:
        r, name = self.rank, self.name
        self.kernel_size = _ints(kernel_size, r, "kernel_size", name)
        self.strides = _ints(strides, r, "strides", name)
        self.dilation_rate = _ints(dilation_rate, r, "dilation_rate", name)
        p = padding.lower() if isinstance(padding, str) else padding
        if p not in ("valid", "same"):
            raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = p
        fmt = data_format or "channels_last"
        if fmt not in ("channels_last", "channels_first"):
            raise ValueError(f"{name}: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = fmt
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _channels(self, input_shape) -> int:
        shape = normalize_shape(input_shape)
        self._check_input(shape, None)
        c = shape[-1] if self.data_format == "channels_last" else shape[1]
        if c is None:
            raise ShapeError(f"{self.name}: the channel dimension of the input must be known "
                             f"to create the kernel, got input shape {shape}")
        return c

    def _layout(self) -> str:
        sp = ", ".join(["spatial"] * self.rank)
        return f"batch, {sp}, channels" if self.data_format == "channels_last" else \
            f"batch, channels, {sp}"

    def _check_input(self, shape, expected: int) -> None:
        shape = tuple(shape)
        if len(shape) != self.rank + 2:
            raise ShapeError(f"{self.name}: expected an input of {self.rank + 2} dimensions "
                             f"({self._layout()}), got input shape {shape}")
        c = shape[-1] if self.data_format == "channels_last" else shape[1]
        if expected is not None and c not in (None, expected):
            raise ShapeError(f"{self.name}: expected an input with {expected} channels, got "
                             f"{c} channels (input shape {shape}, data_format="
                             f"{self.data_format!r})")

    def _out_shape(self, input_shape, channels_in: int, channels_out: int) -> tuple:
        shape = normalize_shape(input_shape)
        self._check_input(shape, channels_in)
        sp = shape[1:-1] if self.data_format == "channels_last" else shape[2:]
        lengths = tuple(_conv_length(n, k, s, d, self.padding) for n, k, s, d in zip(
            sp, self.kernel_size, self.strides, self.dilation_rate))
        if self.data_format == "channels_last":
            return (shape[0], *lengths, channels_out)
        return (shape[0], channels_out, *lengths)

    def _add_bias(self, n: int) -> None:
        if self.use_bias:
            self.add_weight("bias", (n,), self.bias_initializer, self.bias_regularizer)

    def _conv(self, x, kernel, bias, groups: int, relu: bool = False):
        return C._conv(f"{self.name} ({type(self).__name__})", self.rank, x, kernel, bias,
                       self.strides, self.padding, self.dilation_rate, groups,
                       self.data_format, keras_kernel=True, relu=relu)

    def extra_repr(self) -> str:
        act = activations.serialize(self.activation) or getattr(
            self.activation, "__name__", type(self.activation).__name__)
        head = f"filters={self.filters}, " if hasattr(self, "filters") else ""
        return (f"{head}kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, activation={act!r}, name={self.name!r}")


# ----- PyTorch style -----
class _TorchConv(Module):
    """What torch's ConvNd share: arguments, construction-time weights, torch's init."""

    rank = 2
    transposed = False

    def _make(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
              bias, padding_mode) -> None:
        r, name = self.rank, self.name
        self.in_channels = _ints(in_channels, 1, "in_channels", name)[0]
        self.out_channels = _ints(out_channels, 1, "out_channels", name)[0]
        self.kernel_size = _ints(kernel_size, r, "kernel_size", name)
        self.stride = _ints(stride, r, "stride", name)
        self.dilation = _ints(dilation, r, "dilation", name)
        self.groups = _ints(groups, 1, "groups", name)[0]
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("valid", "same") or self.transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of {r} ints"
                                 + ("" if self.transposed else ", 'valid' or 'same'")
                                 + f", got {padding!r}")
            self.padding = padding
        else:
            self.padding = _ints(padding, r, "padding", name, 0)
        for what, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise ValueError(f"{name}: {what}={n} must be divisible by groups={groups}")
        a, b = (self.in_channels, self.out_channels)[::(-1 if self.transposed else 1)]
        shape = (b, a // self.groups, *self.kernel_size)
        fan_in = shape[1] * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): gain^2 * 3 = 1
        rng = get_generator()
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype("float32"),
                                name=f"{name}/weight")
        self.bias = None
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (self.out_channels,))
                                  .astype("float32"), name=f"{name}/bias")
        self._build_input_shape = (None, self.in_channels, *([None] * r))

    def _check(self, shape) -> None:
        shape = tuple(shape)
        if len(shape) != self.rank + 2 or shape[1] not in (None, self.in_channels):
            sp = ("L", "H, W", "D, H, W")[self.rank - 1]
            raise ShapeError(f"{self.name}: expected an input (N, {self.in_channels}, {sp}) "
                             f"with {self.in_channels} channels, got input shape {shape}")

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")
