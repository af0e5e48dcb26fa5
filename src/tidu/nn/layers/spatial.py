"""Spatial reshaping layers: Keras's ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D
(channels_last by default) and PyTorch's Upsample (NCHW). None has parameters.

>>> import tidu
>>> tidu.nn.ZeroPadding2D(1).compute_output_shape((None, 28, 28, 1))
(None, 30, 30, 1)
>>> tidu.nn.UpSampling2D(2)(tidu.zeros(1, 3, 4, 5)).shape
(1, 6, 8, 5)
"""

from __future__ import annotations

from ... import ops
from ...errors import ShapeError
from ...ops import resize
from .._utils import normalize_shape
from ..module import Module
from .pooling import check_rank, data_format_arg, keras_config, spatial_positions, take_input_shape

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D",
           "UpSampling2D", "Upsample"]


def _pairs(value, nsp: int, what: str, layer: str) -> tuple:
    """Keras's widths: an int (every side), one int per spatial axis (both sides), or a
    (before, after) pair per axis; for 1-D also a single (before, after) pair."""
    bad = ValueError(f"{layer}: {what} must be an int, a tuple of {nsp} ints or a tuple of "
                     f"{nsp} (before, after) pairs of non-negative ints, got {value!r}")
    try:
        if isinstance(value, int):
            out = ((value, value),) * nsp
        elif nsp == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
            out = (tuple(value),)
        elif len(value) == nsp and all(isinstance(v, int) for v in value):
            out = tuple((v, v) for v in value)
        elif len(value) == nsp:
            out = tuple((int(a), int(b)) for a, b in value)
        else:
            raise bad
    except (TypeError, ValueError):
        raise bad from None
    if any(v < 0 for p in out for v in p):
        raise bad
    return tuple(tuple(int(v) for v in p) for p in out)


class _Widths(Module):
    nsp = 2
    sign = 1  # +1: pad with zeros, -1: crop

    def _init(self, widths, what, data_format):
        self.widths = _pairs(widths, self.nsp, what, self.name)
        self.data_format = data_format_arg(data_format, self.name)

    def _out(self, shape) -> tuple:
        out = list(check_rank(self, shape, self.nsp, self.data_format))
        for a, (b, e) in zip(spatial_positions(self.nsp, self.data_format), self.widths):
            if out[a] is None:
                continue
            out[a] += self.sign * (b + e)
            if out[a] <= 0:
                raise ShapeError(f"{self.name}: cropping {self.widths} removes every element "
                                 f"of an input of shape {tuple(shape)}")
        return tuple(out)

    def get_config(self) -> dict:
        """Keras's config: the widths as (before, after) pairs, data_format resolved."""
        config = super().get_config()
        key = "padding" if self.sign > 0 else "cropping"
        config[key] = self.widths[0] if self.nsp == 1 else self.widths
        if "data_format" in config:
            config["data_format"] = self.data_format
        return keras_config(config)

    def compute_output_shape(self, input_shape) -> tuple:
        return self._out(input_shape)

    def forward(self, x):
        self._out(x.shape)
        width = [(0, 0)] * x.ndim
        for a, (b, e) in zip(spatial_positions(self.nsp, self.data_format), self.widths):
            width[a] = (self.sign * b, self.sign * e)
        return ops.pad(x, width)

    def extra_repr(self) -> str:
        return f"{self.widths}, data_format={self.data_format!r}"


class ZeroPadding1D(_Widths):
    """Zeros added before and after the steps of (batch, steps, features):
    ``padding`` = int or (before, after)."""

    nsp = 1

    def __init__(self, padding=1, data_format=None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self._init(padding, "padding", data_format)
        take_input_shape(self, input_shape)


class ZeroPadding2D(_Widths):
    """Rows and columns of zeros around (batch, rows, cols, channels) (channels_last) or
    (batch, channels, rows, cols): ``padding`` = int, (rows, cols) or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self._init(padding, "padding", data_format)
        take_input_shape(self, input_shape)


class Cropping1D(_Widths):
    """Steps removed from the start and end of (batch, steps, features):
    ``cropping`` = int or (start, end)."""

    nsp = 1
    sign = -1

    def __init__(self, cropping=(1, 1), data_format=None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self._init(cropping, "cropping", data_format)
        take_input_shape(self, input_shape)


class Cropping2D(_Widths):
    """Rows and columns removed from the edges: ``cropping`` = int, (rows, cols) or
    ((top, bottom), (left, right))."""

    sign = -1

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        self._init(cropping, "cropping", data_format)
        take_input_shape(self, input_shape)


class _UpSampling(Module):
    nsp = 2

    def _init(self, size, data_format, interpolation):
        from ...ops._pool import tuple_arg

        self.size = tuple_arg(size, self.nsp, "size", self.name)
        if min(self.size) <= 0:
            raise ValueError(f"{self.name}: size must be positive, got {size!r}")
        self.data_format = data_format_arg(data_format, self.name)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{self.name}: interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.interpolation = interpolation

    def get_config(self) -> dict:
        """Keras's config: size as a tuple, data_format resolved."""
        config = super().get_config()
        config["size"] = self.size[0] if self.nsp == 1 else self.size
        if "data_format" in config:
            config["data_format"] = self.data_format
        return keras_config(config)

    def compute_output_shape(self, input_shape) -> tuple:
        out = list(check_rank(self, input_shape, self.nsp, self.data_format))
        for a, s in zip(spatial_positions(self.nsp, self.data_format), self.size):
            out[a] = None if out[a] is None else out[a] * s
        return tuple(out)

    def forward(self, x):
        check_rank(self, x.shape, self.nsp, self.data_format)
        mode = "nearest" if self.interpolation == "nearest" else \
            ("linear" if self.nsp == 1 else "bilinear")
        # Keras's bilinear resize is half-pixel: torch's align_corners=False
        return resize.interpolate(x, scale_factor=self.size, mode=mode,
                                  align_corners=None if mode == "nearest" else False,
                                  data_format=self.data_format)

    def extra_repr(self) -> str:
        return (f"size={self.size}, data_format={self.data_format!r}, "
                f"interpolation={self.interpolation!r}")


class UpSampling1D(_UpSampling):
    """Each step of (batch, steps, features) repeated ``size`` times."""

    nsp = 1

    def __init__(self, size=2, input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self._init(size, None, "nearest")
        take_input_shape(self, input_shape)


class UpSampling2D(_UpSampling):
    """Rows and columns repeated ``size`` times ('nearest') or resized bilinearly (half-pixel
    centers, as Keras / torch's align_corners=False)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest",
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self._init(size, data_format, interpolation)
        take_input_shape(self, input_shape)


class Upsample(Module):
    """PyTorch's nn.Upsample on (N, C, L) or (N, C, H, W): :func:`tidu.nn.functional.
    interpolate` with a fixed ``size`` or ``scale_factor``, ``mode`` and ``align_corners``."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None, name: str | None = None):
        super().__init__(name=name)
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{self.name}: give exactly one of size and scale_factor, got "
                             f"size={size!r}, scale_factor={scale_factor!r}")
        if mode not in ("nearest", "linear", "bilinear"):
            raise ValueError(f"{self.name}: mode must be 'nearest', 'linear' or 'bilinear', "
                             f"got {mode!r}")
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if len(shape) not in (3, 4):
            raise ShapeError(f"{self.name}: expected a 3-D (N, C, L) or 4-D (N, C, H, W) "
                             f"input, got shape {shape}")
        nsp = len(shape) - 2
        if self.size is not None:
            sizes = (self.size,) * nsp if isinstance(self.size, int) else tuple(self.size)
        else:
            f = self.scale_factor
            factors = (f,) * nsp if isinstance(f, int | float) else tuple(f)
            sizes = [None if n is None else int(n * s) for n, s in zip(shape[2:], factors)]
        return (*shape[:2], *sizes)

    def forward(self, x):
        try:
            return resize.interpolate(x, self.size, self.scale_factor, self.mode,
                                      self.align_corners)
        except (ShapeError, ValueError) as e:
            raise type(e)(f"{self.name}: {e}") from None

    def extra_repr(self) -> str:
        f = self.scale_factor
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={float(f) if isinstance(f, int | float) else tuple(map(float, f))}"
        return f"{what}, mode={self.mode!r}"
