"""Convolution layers: Keras's Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D and
SeparableConv2D; PyTorch's Conv1d/Conv2d and ConvTranspose2d.

The Keras layers are built lazily from the input shape, keep the kernel in Keras's layout
``(*kernel_size, channels // groups, filters)`` and compute channels-last (the default
``data_format``) without transposing. The PyTorch layers are built at construction with
``weight`` (out, in // groups, *kernel) (ConvTranspose2d: (in, out // groups, *kernel)) and
``bias`` drawn as torch draws them, so a torch state dict loads directly.

What they share (the bases ``_KerasConv`` and ``_TorchConv``: argument checks, shape
arithmetic, weight creation) is in :mod:`tidu.nn.layers.conv_base`.
"""

from __future__ import annotations

import dataclasses

from ... import ops
from ...errors import ShapeError
from ...ops import convolution as C
from .. import activations, initializers, regularizers
from .._utils import normalize_shape
from .conv_base import _conv_length, _ints, _KerasConv, _TorchConv

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D",
           "SeparableConv2D", "Conv1d", "Conv2d", "ConvTranspose2d"]


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
