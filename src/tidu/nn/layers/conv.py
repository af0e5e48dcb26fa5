"""Convolution layers: Keras's Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D and
SeparableConv2D; PyTorch's Conv1d/Conv2d and ConvTranspose2d.

The Keras layers are built lazily from the input shape, keep the kernel in Keras's layout
``(*kernel_size, channels // groups, filters)`` and compute channels-last (the default
``data_format``) without transposing. The PyTorch layers are built at construction with
``weight`` (out, in // groups, *kernel) (ConvTranspose2d: (in, out // groups, *kernel)) and
``bias`` drawn as torch draws them, so a torch state dict loads directly.
"""

from __future__ import annotations

import dataclasses
import math

from ... import ops
from ...errors import ShapeError
from ...ops import convolution as C
from ...random import get_generator
from .. import activations, initializers, regularizers
from .._utils import normalize_shape
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D",
           "SeparableConv2D", "Conv1d", "Conv2d", "ConvTranspose2d"]


_ints = C._tuple  # (value, rank, what, layer, minimum=1): an int or a tuple of ints


def _conv_length(n, k: int, s: int, d: int, padding) -> int | None:
    """One output length of a convolution ('same', 'valid' or a (before, after) pair)."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    lo, hi = (0, 0) if padding == "valid" else padding
    return max((n + lo + hi - d * (k - 1) - 1) // s + 1, 0)


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


class _ConvND(_KerasConv):
    """Keras's ConvND: ``activation(conv(x, kernel) + bias)``, kernel
    (*kernel_size, channels // groups, filters)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1, groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self.filters = _ints(filters, 1, "filters", self.name)[0]
        self.groups = _ints(groups, 1, "groups", self.name)[0]
        if self.filters % self.groups:
            raise ValueError(f"{self.name}: filters={filters} must be divisible by "
                             f"groups={groups}")
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation,
                    use_bias, bias_initializer, bias_regularizer)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel = self.bias = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        if c % self.groups:
            raise ShapeError(f"{self.name}: the input's {c} channels are not divisible by "
                             f"groups={self.groups} (input shape {tuple(input_shape)})")
        self.add_weight("kernel", (*self.kernel_size, c // self.groups, self.filters),
                        self.kernel_initializer, self.kernel_regularizer)
        self._add_bias(self.filters)

    def forward(self, x):
        self._check_input(x.shape, self.kernel.shape[-2] * self.groups)
        if self.activation is activations.relu:  # one node: the rectifier on the conv's output
            return self._conv(x, self.kernel, self.bias, self.groups, relu=True)
        return self.activation(self._conv(x, self.kernel, self.bias, self.groups))

    def compute_output_shape(self, input_shape) -> tuple:
        c = self.kernel.shape[-2] * self.groups if self.kernel is not None else None
        return self._out_shape(input_shape, c, self.filters)


class Conv1D(_ConvND):
    """1-D convolution (Keras): input (batch, steps, channels) by default, kernel
    (kernel_size, channels // groups, filters).

    >>> import tidu
    >>> tidu.nn.Conv1D(4, 3, input_shape=(10, 2)).count_params()
    28
    """

    rank = 1


class Conv2D(_ConvND):
    """2-D convolution (Keras): input (batch, rows, cols, channels) by default (or
    channels-first with ``data_format='channels_first'``), kernel (kh, kw, channels // groups,
    filters). ``padding='same'`` keeps ceil(size / stride) outputs (TensorFlow's rule).

    >>> import tidu
    >>> layer = tidu.nn.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1))
    >>> layer.count_params(), layer.compute_output_shape((None, 28, 28, 1))
    (320, (None, 26, 26, 32))
    """

    rank = 2


class Conv3D(_ConvND):
    """3-D convolution (Keras): input (batch, d, h, w, channels) by default, kernel
    (kd, kh, kw, channels // groups, filters).

    >>> import tidu
    >>> tidu.nn.Conv3D(2, 2, input_shape=(4, 4, 4, 3)).count_params()
    50
    """

    rank = 3


class DepthwiseConv2D(_KerasConv):
    """Depthwise 2-D convolution (Keras): each input channel convolved with its own
    ``depth_multiplier`` filters; ``depthwise_kernel`` (kh, kw, channels, depth_multiplier),
    output channel ``c * depth_multiplier + j``.

    >>> import tidu
    >>> tidu.nn.DepthwiseConv2D(3, input_shape=(8, 8, 4)).count_params()
    40
    """

    def __init__(self, kernel_size, strides=1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None, dilation_rate=1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self.depth_multiplier = _ints(depth_multiplier, 1, "depth_multiplier", self.name)[0]
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation,
                    use_bias, bias_initializer, bias_regularizer)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_kernel = self.bias = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        self.add_weight("depthwise_kernel", (*self.kernel_size, c, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer)
        self._add_bias(c * self.depth_multiplier)

    def _depthwise(self, x, bias):
        kh, kw, c, m = self.depthwise_kernel.shape
        self._check_input(x.shape, c)
        kernel = ops.reshape(self.depthwise_kernel, (kh, kw, 1, c * m))
        return self._conv(x, kernel, bias, c)

    def forward(self, x):
        return self.activation(self._depthwise(x, self.bias))

    def compute_output_shape(self, input_shape) -> tuple:
        c = self._channels(input_shape) if self.depthwise_kernel is None else \
            self.depthwise_kernel.shape[2]
        return self._out_shape(input_shape, c, c * self.depth_multiplier)


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise separable 2-D convolution (Keras): a depthwise convolution
    (``depthwise_kernel`` (kh, kw, channels, depth_multiplier)) then a 1x1 one
    (``pointwise_kernel`` (1, 1, channels * depth_multiplier, filters)) and the bias.

    >>> import tidu
    >>> tidu.nn.SeparableConv2D(8, 3, input_shape=(8, 8, 4)).count_params()
    76
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1, depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 input_shape=None, name: str | None = None):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer, None, name)
        self.filters = _ints(filters, 1, "filters", self.name)[0]
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_kernel = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        m = self.depth_multiplier
        self.add_weight("depthwise_kernel", (*self.kernel_size, c, m),
                        self.depthwise_initializer, self.depthwise_regularizer)
        self.add_weight("pointwise_kernel", (1, 1, c * m, self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer)
        self._add_bias(self.filters)

    def forward(self, x):
        y = self._depthwise(x, None)
        y = C._conv(f"{self.name} (SeparableConv2D)", 2, y, self.pointwise_kernel, self.bias,
                    1, 0, 1, 1, self.data_format, keras_kernel=True)
        return self.activation(y)

    def compute_output_shape(self, input_shape) -> tuple:
        c = None if self.depthwise_kernel is None else self.depthwise_kernel.shape[2]
        return self._out_shape(input_shape, c, self.filters)


class Conv2DTranspose(_KerasConv):
    """Transposed 2-D convolution (Keras): kernel (kh, kw, filters, channels); output size
    ``size * stride`` ('same'), ``size * stride + max(k - stride, 0)`` ('valid'), or
    ``(size - 1) * stride + k - 2 * pad + output_padding`` when ``output_padding`` is given.

    >>> import tidu
    >>> layer = tidu.nn.Conv2DTranspose(8, 3, strides=2, padding="same",
    ...                                 input_shape=(7, 7, 4))
    >>> layer.count_params(), layer.compute_output_shape((None, 7, 7, 4))
    (296, (None, 14, 14, 8))
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 output_padding=None, data_format: str | None = None, dilation_rate=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self.filters = _ints(filters, 1, "filters", self.name)[0]
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation,
                    use_bias, bias_initializer, bias_regularizer)
        self.output_padding = None if output_padding is None else _ints(
            output_padding, 2, "output_padding", self.name, 0)
        if self.output_padding is not None:
            for p, s, d in zip(self.output_padding, self.strides, self.dilation_rate):
                if p >= max(s, d):
                    raise ValueError(f"{self.name}: output_padding {self.output_padding} must"
                                     f" be smaller than strides {self.strides} (or dilation)")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel = self.bias = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        c = self._channels(input_shape)
        self.add_weight("kernel", (*self.kernel_size, self.filters, c),
                        self.kernel_initializer, self.kernel_regularizer)
        self._add_bias(self.filters)

    def _lengths(self, spatial) -> tuple:
        """Output lengths and the conv padding (pairs, or 'same') that maps them back."""
        out, pads = [], []
        for i, (n, k, s, d) in enumerate(zip(spatial, self.kernel_size, self.strides,
                                             self.dilation_rate)):
            span = d * (k - 1) + 1
            if self.output_padding is None:
                out.append(None if n is None else
                           n * s if self.padding == "same" else n * s + max(span - s, 0))
                pads.append(None)
            else:
                p = span // 2 if self.padding == "same" else 0
                out.append(None if n is None else (n - 1) * s + span - 2 * p
                           + self.output_padding[i])
                pads.append((p, p))
        padding = "same" if self.output_padding is None and self.padding == "same" else \
            tuple((0, 0) if p is None else p for p in pads)
        return tuple(out), padding

    def forward(self, x):
        self._check_input(x.shape, self.kernel.shape[-1])
        last = self.data_format == "channels_last"
        size, padding = self._lengths(x.shape[1:-1] if last else x.shape[2:])
        cfg = C._config(f"{self.name} (Conv2DTranspose)", 2, self.strides, "valid",
                        self.dilation_rate, 1, self.data_format, True)
        y = C.ConvInput.apply(x, self.kernel, None, cfg=dataclasses.replace(cfg, padding=padding),
                              size=size)
        if self.bias is not None:
            y = y + (self.bias if last else ops.reshape(self.bias, (self.filters, 1, 1)))
        return self.activation(y)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check_input(shape, None if self.kernel is None else self.kernel.shape[-1])
        last = self.data_format == "channels_last"
        size, _ = self._lengths(shape[1:-1] if last else shape[2:])
        return (shape[0], *size, self.filters) if last else (shape[0], self.filters, *size)


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


class _TorchConvND(_TorchConv):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 name: str | None = None):
        super().__init__(name=name)
        self._make(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                   bias, padding_mode)

    def forward(self, x):
        self._check(x.shape)
        return C._conv(f"{self.name} ({type(self).__name__})", self.rank, x, self.weight,
                       self.bias, self.stride, self.padding, self.dilation, self.groups,
                       "channels_first")

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check(shape)
        pads = [self.padding] * self.rank if isinstance(self.padding, str) else \
            [(p, p) for p in self.padding]
        return (shape[0], self.out_channels, *(
            _conv_length(n, k, s, d, p) for n, k, s, d, p in zip(
                shape[2:], self.kernel_size, self.stride, self.dilation, pads)))


class Conv1d(_TorchConvND):
    """1-D convolution, PyTorch style: input (N, C_in, L), ``weight`` (C_out, C_in // groups,
    k), ``bias`` (C_out,), initialised as torch.nn.Conv1d.

    >>> import tidu
    >>> tidu.nn.Conv1d(2, 4, 3)(tidu.ones(1, 2, 10)).shape
    (1, 4, 8)
    """

    rank = 1


class Conv2d(_TorchConvND):
    """2-D convolution, PyTorch style: input (N, C_in, H, W), ``weight``
    (C_out, C_in // groups, kh, kw), ``bias`` (C_out,), initialised as torch.nn.Conv2d.

    >>> import tidu
    >>> tidu.nn.Conv2d(3, 8, 3, padding=1)(tidu.ones(2, 3, 16, 16)).shape
    (2, 8, 16, 16)
    """

    rank = 2


class ConvTranspose2d(_TorchConv):
    """Transposed 2-D convolution, PyTorch style: ``weight`` (C_in, C_out // groups, kh, kw);
    output size (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.

    >>> import tidu
    >>> tidu.nn.ConvTranspose2d(4, 2, 3, stride=2)(tidu.ones(1, 4, 5, 5)).shape
    (1, 2, 11, 11)
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", name: str | None = None):
        super().__init__(name=name)
        self._make(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                   bias, padding_mode)
        self.output_padding = _ints(output_padding, 2, "output_padding", self.name, 0)

    def forward(self, x):
        self._check(x.shape)
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                    self.output_padding, self.groups, self.dilation)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check(shape)
        return (shape[0], self.out_channels, *(
            None if n is None else (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            for n, s, p, d, k, op in zip(shape[2:], self.stride, self.padding, self.dilation,
                                         self.kernel_size, self.output_padding)))
