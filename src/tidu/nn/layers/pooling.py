"""Pooling layers: Keras's MaxPooling/AveragePooling/Global*Pooling (channels_last by
default); PyTorch's MaxPool, AvgPool and adaptive pooling (NCHW). None has parameters.

>>> import tidu
>>> tidu.nn.MaxPooling2D(2).compute_output_shape((None, 26, 26, 32))
(None, 13, 13, 32)
>>> tidu.nn.MaxPool2d(2)(tidu.zeros(1, 3, 8, 8)).shape
(1, 3, 4, 4)
"""

from __future__ import annotations

from ... import ops
from ...errors import ShapeError
from ...ops import _pool
from ...ops import pooling as P
from .._utils import normalize_shape
from ..module import Module

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def data_format_arg(value, layer: str) -> str:
    """Keras's ``data_format``: None means 'channels_last'."""
    value = "channels_last" if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {value!r}")
    return value


def layout(nsp: int, data_format: str) -> str:
    """The axes a layer expects, in words (for errors)."""
    space = "steps" if nsp == 1 else "rows, cols"
    if data_format == "channels_last":
        return f"(batch, {space}, channels)"
    return f"(batch, channels, {space})"


def check_rank(layer: Module, shape, nsp: int, data_format: str) -> tuple:
    shape = normalize_shape(shape)
    if len(shape) != nsp + 2:
        raise ShapeError(f"{layer.name}: expected a {nsp + 2}-D input "
                         f"{layout(nsp, data_format)}, got shape {shape}")
    return shape


def spatial_positions(nsp: int, data_format: str) -> tuple:
    return tuple(range(1, nsp + 1)) if data_format == "channels_last" else \
        tuple(range(2, nsp + 2))


def take_input_shape(layer: Module, input_shape) -> None:
    """Keras's ``input_shape`` argument (one sample's shape): checked, and recorded so that a
    Sequential starting with this layer knows its input."""
    if input_shape is not None:
        shape = (None, *normalize_shape(input_shape))
        layer.compute_output_shape(shape)
        Module.build(layer, shape)


def keras_config(config: dict) -> dict:
    """``config`` without an ``input_shape`` that was not given (Keras writes none)."""
    if config.get("input_shape", 0) is None:
        del config["input_shape"]
    return config


def _replace(shape, axes, sizes) -> tuple:
    out = list(shape)
    for a, s in zip(axes, sizes):
        out[a] = s
    return tuple(out)


# ----- Keras -----
class _KerasPooling(Module):
    nsp = 2
    fn = None  # the functional form

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None,
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self.pool_size = _pool.tuple_arg(pool_size, self.nsp, "pool_size", self.name)
        self.strides = self.pool_size if strides is None else \
            _pool.tuple_arg(strides, self.nsp, "strides", self.name)
        if min(self.pool_size) <= 0 or min(self.strides) <= 0:
            raise ValueError(f"{self.name}: pool_size and strides must be positive, got "
                             f"pool_size={self.pool_size}, strides={self.strides}")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{self.name}: padding must be 'valid' or 'same', got {padding!r}")
        self.data_format = data_format_arg(data_format, self.name)
        take_input_shape(self, input_shape)

    def get_config(self) -> dict:
        """Keras's config: the resolved pool_size, strides and data_format."""
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding,
                      data_format=self.data_format)
        return keras_config(config)

    def _spatial_out(self, shape) -> tuple:
        axes = spatial_positions(self.nsp, self.data_format)
        out = []
        for a, k, s in zip(axes, self.pool_size, self.strides):
            n = shape[a]
            if n is None:
                out.append(None)
            elif self.padding == "same":
                out.append(-(-n // s))
            elif n < k:
                raise ShapeError(f"{self.name}: input of shape {shape} is smaller than "
                                 f"pool_size={self.pool_size} (padding='valid'); expected "
                                 f"{layout(self.nsp, self.data_format)} with each spatial "
                                 f"size >= the pool size")
            else:
                out.append((n - k) // s + 1)
        return _replace(shape, axes, out)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = check_rank(self, input_shape, self.nsp, self.data_format)
        return self._spatial_out(shape)

    def forward(self, x):
        self._spatial_out(check_rank(self, x.shape, self.nsp, self.data_format))
        return type(self).fn(x, self.pool_size, self.strides, self.padding,
                             data_format=self.data_format)

    def extra_repr(self) -> str:
        return (f"pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


class MaxPooling1D(_KerasPooling):
    """Keras's max pooling over steps: input (batch, steps, features) (channels_last) or
    (batch, features, steps); 'valid' gives floor((n - pool) / stride) + 1 steps, 'same'
    ceil(n / stride)."""

    nsp = 1
    fn = staticmethod(P.max_pool1d)


class MaxPooling2D(_KerasPooling):
    """Keras's 2-D max pooling: input (batch, rows, cols, channels) (channels_last) or
    (batch, channels, rows, cols); ``strides`` defaults to ``pool_size``; 'valid' floors,
    'same' gives ceil(n / stride) (padded with -inf)."""

    fn = staticmethod(P.max_pool2d)


class AveragePooling1D(_KerasPooling):
    """Keras's average pooling over steps; 'same' averages over the real elements only."""

    nsp = 1
    fn = staticmethod(P.avg_pool1d)


class AveragePooling2D(_KerasPooling):
    """Keras's 2-D average pooling; 'same' averages over the real elements only."""

    fn = staticmethod(P.avg_pool2d)


class _KerasGlobal(Module):
    nsp = 2
    reduce = None

    def __init__(self, data_format=None, keepdims: bool = False, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self.data_format = data_format_arg(data_format, self.name)
        self.keepdims = bool(keepdims)
        take_input_shape(self, input_shape)

    def get_config(self) -> dict:
        """Keras's config: data_format resolved, keepdims."""
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return keras_config(config)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = check_rank(self, input_shape, self.nsp, self.data_format)
        axes = spatial_positions(self.nsp, self.data_format)
        if self.keepdims:
            return _replace(shape, axes, (1,) * self.nsp)
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def forward(self, x):
        check_rank(self, x.shape, self.nsp, self.data_format)
        axes = spatial_positions(self.nsp, self.data_format)
        return type(self).reduce(x, axes, keepdims=self.keepdims)

    def extra_repr(self) -> str:
        return f"data_format={self.data_format!r}, keepdims={self.keepdims}"


class GlobalAveragePooling1D(_KerasGlobal):
    """Mean over steps: (batch, steps, features) -> (batch, features)."""

    nsp = 1
    reduce = staticmethod(ops.mean)


class GlobalAveragePooling2D(_KerasGlobal):
    """Mean over rows and cols: (batch, rows, cols, channels) -> (batch, channels)."""

    reduce = staticmethod(ops.mean)


class GlobalMaxPooling1D(_KerasGlobal):
    """Maximum over steps: (batch, steps, features) -> (batch, features)."""

    nsp = 1
    reduce = staticmethod(ops.max)


class GlobalMaxPooling2D(_KerasGlobal):
    """Maximum over rows and cols: (batch, rows, cols, channels) -> (batch, channels)."""

    reduce = staticmethod(ops.max)


# Keras's short names for the same classes
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D


# ----- PyTorch (NCHW) -----
def _torch_rank(layer: Module, shape, nsp: int) -> tuple:
    shape = normalize_shape(shape)
    if len(shape) not in (nsp + 1, nsp + 2):
        space = "L" if nsp == 1 else "H, W"
        raise ShapeError(f"{layer.name}: expected a {nsp + 2}-D input (N, C, {space}) or an "
                         f"unbatched {nsp + 1}-D one, got shape {shape}")
    return shape


class _TorchPooling(Module):
    nsp = 2

    def _geometry(self, shape):
        shape = _torch_rank(self, shape, self.nsp)
        known = tuple(1 if d is None else d for d in shape)
        try:
            geom = _pool.torch_geometry(known, self.nsp, self.kernel_size, self.stride,
                                        self.padding, self.dilation, self.ceil_mode, self.name,
                                        "channels_first")
        except ShapeError as e:
            raise ShapeError(f"{e} (input shape {shape})") from None
        spatial = [None if shape[a] is None else o for a, o in zip(geom.axes, geom.out)]
        return _replace(shape, geom.axes, spatial)

    def compute_output_shape(self, input_shape) -> tuple:
        return self._geometry(input_shape)

    def extra_repr(self) -> str:  # PyTorch's
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _TorchMax(_TorchPooling):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False,
                 name: str | None = None):
        super().__init__(name=name)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        self._geometry((1, 1) + (10**9,) * self.nsp)  # check the arguments now

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"

    def forward(self, x):
        self._geometry(x.shape)
        fn = P.max_pool2d if self.nsp == 2 else P.max_pool1d
        return fn(x, self.kernel_size, self.stride, self.padding, self.dilation,
                  self.ceil_mode, self.return_indices)


class MaxPool1d(_TorchMax):
    """PyTorch's nn.MaxPool1d on (N, C, L): maxima of sliding windows (padded with -inf)."""

    nsp = 1


class MaxPool2d(_TorchMax):
    """PyTorch's nn.MaxPool2d on (N, C, H, W): maxima of sliding windows (padded with -inf);
    ``return_indices`` also returns the flat positions of the maxima."""


class _TorchAvg(_TorchPooling):
    dilation = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None,
                 name: str | None = None):
        super().__init__(name=name)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override
        self._geometry((1, 1) + (10**9,) * self.nsp)

    def forward(self, x):
        self._geometry(x.shape)
        fn = P.avg_pool2d if self.nsp == 2 else P.avg_pool1d
        return fn(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                  self.count_include_pad, self.divisor_override)


class AvgPool1d(_TorchAvg):
    """PyTorch's nn.AvgPool1d on (N, C, L)."""

    nsp = 1

    def extra_repr(self) -> str:  # PyTorch shows its 1-tuples here
        one = [(v,) if isinstance(v, int) else tuple(v)
               for v in (self.kernel_size, self.stride, self.padding)]
        return f"kernel_size={one[0]}, stride={one[1]}, padding={one[2]}"


class AvgPool2d(_TorchAvg):
    """PyTorch's nn.AvgPool2d on (N, C, H, W); ``count_include_pad`` counts the zero
    padding in each mean, ``divisor_override`` replaces the divisor."""


class _Adaptive(Module):
    nsp = 2
    fn = None

    def __init__(self, output_size, name: str | None = None):
        super().__init__(name=name)
        size = (output_size,) * self.nsp if isinstance(output_size, int) or \
            output_size is None else tuple(output_size)
        if len(size) != self.nsp or any(s is not None and int(s) <= 0 for s in size):
            raise ValueError(f"{self.name}: output_size must be a positive int or a tuple of "
                             f"{self.nsp} (None keeps that size), got {output_size!r}")
        self.output_size = output_size if isinstance(output_size, int) or \
            output_size is None else size

    def compute_output_shape(self, input_shape) -> tuple:
        shape = _torch_rank(self, input_shape, self.nsp)
        axes = tuple(range(len(shape) - self.nsp, len(shape)))
        size = (self.output_size,) * self.nsp if isinstance(self.output_size, int) or \
            self.output_size is None else tuple(self.output_size)
        return _replace(shape, axes, [shape[a] if s is None else int(s)
                                      for a, s in zip(axes, size)])

    def forward(self, x):
        _torch_rank(self, x.shape, self.nsp)
        return type(self).fn(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Adaptive):
    """PyTorch's nn.AdaptiveAvgPool1d: means over ``output_size`` windows covering L."""

    nsp = 1
    fn = staticmethod(P.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_Adaptive):
    """PyTorch's nn.AdaptiveAvgPool2d: means over an ``output_size`` grid of windows;
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    fn = staticmethod(P.adaptive_avg_pool2d)


class AdaptiveMaxPool1d(_Adaptive):
    """PyTorch's nn.AdaptiveMaxPool1d: maxima over ``output_size`` windows covering L."""

    nsp = 1
    fn = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_Adaptive):
    """PyTorch's nn.AdaptiveMaxPool2d: maxima over an ``output_size`` grid of windows."""

    fn = staticmethod(P.adaptive_max_pool2d)
