"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d, on strided views and BLAS products.

Three Functions carry every convolution and all its derivatives, each one linear in both
inputs, whose gradients are the other two: :class:`Conv` (the correlation), :class:`ConvInput`
(its adjoint in the input: the transposed convolution, which is also the input gradient) and
:class:`ConvWeight` (its adjoint in the kernel: the kernel gradient). So their ``vjp`` rules
refer to each other and derivatives of any order exist. The arithmetic lives in
:mod:`tidu.ops._conv_kernels` (im2col by kernel offset and one matmul).

The public functions follow ``torch.nn.functional``: data (N, C, *spatial), kernel
(O, C // groups, *kernel). The keyword ``data_format="channels_last"`` takes (N, *spatial, C)
instead, the layout Keras's layers use, computed without a transpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..autograd import Function
from ..backend import xp
from ..errors import ShapeError
from . import _conv_kernels as K
from ._vjp import is_tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"]

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""


@dataclass(frozen=True)
class Config:
    """A convolution's arguments, normalized: what the three Functions share (a frozen
    dataclass, not a tuple: tidu.compile writes tuples into its plans as plain literals)."""

    name: str  # the public function, for errors
    nd: int
    stride: tuple
    padding: object  # 'same' or ((before, after), ...) per spatial axis
    dilation: tuple
    groups: int
    channels_last: bool  # data layout (N, *S, C) rather than (N, C, *S)
    keras_kernel: bool  # kernel layout (*k, C // groups, O) rather than (O, C // groups, *k)


# ----- layouts: to and from the canonical channels-last data and (*k, Cg, O) kernel -----
def _data_in(a, cfg: Config):
    return a if cfg.channels_last else xp.moveaxis(a, 1, -1)


def _data_out(a, cfg: Config):
    return a if cfg.channels_last else xp.moveaxis(a, -1, 1)


def _kernel_in(w, cfg: Config):
    if cfg.keras_kernel:
        return w
    return w.transpose(*range(2, cfg.nd + 2), 1, 0)


def _kernel_out(w, cfg: Config):
    if cfg.keras_kernel:
        return w
    return w.transpose(cfg.nd + 1, cfg.nd, *range(cfg.nd))


def _spatial(shape: tuple, cfg: Config) -> tuple:
    return tuple(shape[1:-1] if cfg.channels_last else shape[2:])


def _geometry(size: tuple, kernel: tuple, cfg: Config, out=None) -> K.Geometry:
    """The geometry for input sizes ``size``; ``out`` keeps only the first outputs (a
    transposed convolution whose output_padding reaches past the stride)."""
    geo = K.geometry(cfg.name, size, kernel, cfg.stride, cfg.padding, cfg.dilation,
                     cfg.groups)
    return geo if out is None else geo._replace(out=tuple(out))


def _check(x, w, cfg: Config, transposed: bool = False) -> None:
    """Shapes in the user's terms: dimensions, channels, groups."""
    nd, name = cfg.nd, cfg.name
    layout = "(N, *spatial, C)" if cfg.channels_last else "(N, C, *spatial)"
    if x.ndim != nd + 2:
        raise ShapeError(f"{name}: expected a {nd + 2}-D input {layout} (batch, channels and "
                         f"{nd} spatial axes), got an input of shape {x.shape}")
    if w.ndim != nd + 2:
        raise ShapeError(f"{name}: expected a {nd + 2}-D weight, got a weight of shape "
                         f"{w.shape}")
    c = x.shape[-1] if cfg.channels_last else x.shape[1]
    wc = _kernel_in(w, cfg)
    cg, o = wc.shape[-2], wc.shape[-1]
    g = cfg.groups
    if transposed:
        if c != o:
            raise ShapeError(f"{name}: expected an input with {o} channels (the weight "
                             f"{w.shape} takes {o}), got {c} channels in an input of shape "
                             f"{x.shape}")
        return
    if o % g:
        raise ShapeError(f"{name}: the {o} output channels of the weight {w.shape} are not "
                         f"divisible by groups={g}")
    if c != cg * g:
        raise ShapeError(f"{name}: expected an input with {cg * g} channels (weight {w.shape}"
                         f" with groups={g}), got {c} channels in an input of shape {x.shape}")


# ----- the three Functions -----
class Conv(Function):
    """The correlation of ``x`` with ``w`` (plus ``b``): conv1d/2d/3d."""

    relu = False  # ConvReLU: the rectifier inside the forward kernel

    def forward(self, x, w, b, cfg: Config, out=None):
        _check(x, w, cfg)
        self.cfg, self.xc, self.wc = cfg, _data_in(x, cfg), _kernel_in(w, cfg)
        self.geo = _geometry(self.xc.shape[1:-1], self.wc.shape[:-2], cfg, out)
        return _data_out(K.conv_forward(self.xc, self.wc, b, self.geo, self.relu), cfg)

    def backward(self, g):
        return self._grads(_data_in(g, self.cfg))

    def _grads(self, gc, relu=None):
        """The three gradients from the canonical (channels-last) output gradient ``gc``
        (masked by ``relu > 0`` first, ``relu`` the canonical output of ConvReLU)."""
        cfg = self.cfg
        dx, dw, db = K.conv_grads(self.xc, gc, self.wc, self.geo, self.needs_grad, relu)
        return (None if dx is None else _data_out(dx, cfg),
                None if dw is None else _kernel_out(dw, cfg), db)

    @staticmethod
    def vjp(g, x, w, b, cfg, out=None):
        from .reduce import sum as sum_

        dx = ConvInput.apply(g, w, x, cfg=cfg, out=out) if is_tensor(x) else None
        dw = ConvWeight.apply(x, g, w, cfg=cfg, out=out) if is_tensor(w) else None
        db = None
        if is_tensor(b):
            axes = tuple(range(cfg.nd + 1)) if cfg.channels_last else (0, *range(2, cfg.nd + 2))
            db = sum_(g, axes)
        return dx, dw, db


class ConvReLU(Conv):
    """``relu(conv(x, w) + b)`` in one node (Keras's ``Conv2D(..., activation='relu')``): the
    rectifier runs in place on the convolution's output (chunk by chunk, with the bias, right
    after each product), and backward takes its mask from that output, instead of a ReLU
    node's own output array and boolean mask."""

    relu = True
    takes_premasked = True  # MaxPool may hand it a gradient already masked (premasked)

    def forward(self, x, w, b, cfg: Config, out=None):
        self.y = y = super().forward(x, w, b, cfg, out)
        return y

    def backward(self, g):
        if g is getattr(self, "premasked", None):  # masked by the max pool that read y
            return self._grads(_data_in(g, self.cfg))
        # masked chunk by chunk inside conv_grads (both viewed channels-last)
        return self._grads(_data_in(g, self.cfg), _data_in(self.y, self.cfg))

    @staticmethod
    def vjp(g, x, w, b, cfg, out=None):
        z = Conv.apply(x, w, b, cfg=cfg, out=out)
        return Conv.vjp(g * (z > 0), x, w, b, cfg, out)


class ConvInput(Function):
    """The transposed convolution of ``g`` with ``w``, shaped like ``like`` (or with spatial
    sizes ``size``): the input gradient of :class:`Conv`, and conv_transpose."""

    def forward(self, g, w, like, cfg: Config, size=None, out=None):
        self.cfg, self.gc, self.wc = cfg, _data_in(g, cfg), _kernel_in(w, cfg)
        self.size = _spatial(like.shape, cfg) if like is not None else tuple(size)
        self.geo = _geometry(self.size, self.wc.shape[:-2], cfg, out)
        if self.geo.out != self.gc.shape[1:-1]:
            raise ShapeError(f"{cfg.name}: an input of spatial size {self.geo.out} does not fit"
                             f" an output of spatial size {self.size}")
        return _data_out(K.conv_input_grad(self.gc, self.wc, self.size, self.geo), cfg)

    def backward(self, a):
        cfg, ac = self.cfg, _data_in(a, self.cfg)
        dg = dw = None
        if self.needs_grad[0]:
            dg = _data_out(K.conv_forward(ac, self.wc, None, self.geo), cfg)
        if self.needs_grad[1]:
            dw = _kernel_out(K.conv_weight_grad(ac, self.gc, self.wc.shape, self.geo), cfg)
        return dg, dw, None

    @staticmethod
    def vjp(a, g, w, like, cfg, size=None, out=None):
        dg = Conv.apply(a, w, None, cfg=cfg, out=out) if is_tensor(g) else None
        dw = ConvWeight.apply(a, g, w, cfg=cfg, out=out) if is_tensor(w) else None
        return dg, dw, None


class ConvWeight(Function):
    """The kernel gradient of :class:`Conv` for input ``x`` and output gradient ``g``, shaped
    like the kernel ``like``."""

    def forward(self, x, g, like, cfg: Config, out=None):
        self.cfg, self.xc, self.gc = cfg, _data_in(x, cfg), _data_in(g, cfg)
        self.wshape = _kernel_in(like, cfg).shape
        self.geo = _geometry(self.xc.shape[1:-1], self.wshape[:-2], cfg, out)
        return _kernel_out(K.conv_weight_grad(self.xc, self.gc, self.wshape, self.geo), cfg)

    def backward(self, b):
        cfg, bc = self.cfg, _kernel_in(b, self.cfg)
        dx = dg = None
        if self.needs_grad[0]:
            dx = _data_out(K.conv_input_grad(self.gc, bc, self.xc.shape[1:-1], self.geo), cfg)
        if self.needs_grad[1]:
            dg = _data_out(K.conv_forward(self.xc, bc, None, self.geo), cfg)
        return dx, dg, None

    @staticmethod
    def vjp(b, x, g, like, cfg, out=None):
        dx = ConvInput.apply(g, b, x, cfg=cfg, out=out) if is_tensor(x) else None
        dg = Conv.apply(x, b, None, cfg=cfg, out=out) if is_tensor(g) else None
        return dx, dg, None


# ----- argument parsing -----
def _tuple(value, nd: int, what: str, name: str, minimum: int = 1) -> tuple:
    vals = (value,) * nd if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        vals = tuple(vals)
    except TypeError:
        vals = ()
    if len(vals) != nd or not all(isinstance(v, int) and not isinstance(v, bool)
                                  and v >= minimum for v in vals):
        raise ValueError(f"{name}: {what} must be an int >= {minimum} or a tuple of {nd} such "
                         f"ints, got {value!r}")
    return vals


def _padding(padding, nd: int, name: str, allow_strings: bool = True):
    if isinstance(padding, str):
        p = padding.lower()
        if allow_strings and p in ("same", "valid"):
            return "same" if p == "same" else ((0, 0),) * nd
        raise ValueError(f"{name}: padding must be an int, a tuple of {nd} ints"
                         + (", 'valid' or 'same'" if allow_strings else "")
                         + f", got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == nd and all(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple(_tuple(p, 2, "each padding pair", name, 0) for p in padding)
        return pairs
    return tuple((p, p) for p in _tuple(padding, nd, "padding", name, 0))


def _config(name, nd, stride, padding, dilation, groups, data_format, keras_kernel,
            allow_strings=True) -> Config:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"{name}: data_format must be 'channels_first' or 'channels_last', "
                         f"got {data_format!r}")
    return Config(name, nd, _tuple(stride, nd, "stride", name),
                  _padding(padding, nd, name, allow_strings),
                  _tuple(dilation, nd, "dilation", name), groups,
                  data_format == "channels_last", bool(keras_kernel))


def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups, data_format,
          keras_kernel=False, relu=False):
    cfg = _config(name, nd, stride, padding, dilation, groups, data_format, keras_kernel)
    return (ConvReLU if relu else Conv).apply(input, weight, bias, cfg=cfg)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           data_format: str = "channels_first"):
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    input (N, C, L) (or (N, L, C) with ``data_format="channels_last"``), weight
    (O, C // groups, k), bias (O,). ``padding``: an int, a tuple, 'valid' or 'same'
    (TensorFlow's rule, so also with stride > 1).

    >>> import tidu, tidu.nn.functional as F
    >>> F.conv1d(tidu.ones(1, 2, 5), tidu.ones(3, 2, 3)).shape
    (1, 3, 3)
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups,
                 data_format)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           data_format: str = "channels_first"):
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    input (N, C, H, W) (or (N, H, W, C) with ``data_format="channels_last"``), weight
    (O, C // groups, kh, kw), bias (O,). ``padding``: an int, a pair, 'valid' or 'same'
    (TensorFlow's rule, so also with stride > 1: the odd pixel goes after). groups=C with
    O = m * C is a depthwise convolution.

    >>> import tidu, tidu.nn.functional as F
    >>> F.conv2d(tidu.ones(2, 3, 8, 8), tidu.ones(4, 3, 3, 3), padding="same").shape
    (2, 4, 8, 8)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups,
                 data_format)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           data_format: str = "channels_first"):
    """3-D convolution (cross-correlation), as ``torch.nn.functional.conv3d``: input
    (N, C, D, H, W) (or channels-last), weight (O, C // groups, kd, kh, kw).

    >>> import tidu, tidu.nn.functional as F
    >>> F.conv3d(tidu.ones(1, 2, 4, 4, 4), tidu.ones(3, 2, 2, 2, 2)).shape
    (1, 3, 3, 3, 3)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups,
                 data_format)


def _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation, data_format, keras_kernel=False):
    cfg = _config(name, nd, stride, padding, dilation, groups, data_format, keras_kernel,
                  allow_strings=False)
    _check(input, weight, cfg, transposed=True)
    op = _tuple(output_padding, nd, "output_padding", name, 0)
    for p, s, d in zip(op, cfg.stride, cfg.dilation):
        if p >= max(s, d):
            raise ValueError(f"{name}: output_padding {op} must be smaller than the stride "
                             f"{cfg.stride} or the dilation {cfg.dilation}")
    wc = _kernel_in(weight, cfg)
    size = tuple((n - 1) * s - lo - hi + d * (k - 1) + p + 1 for n, s, (lo, hi), d, k, p in zip(
        _spatial(input.shape, cfg), cfg.stride, cfg.padding, cfg.dilation, wc.shape[:-2], op))
    if min(size) < 1:
        raise ShapeError(f"{name}: the output would have spatial size {size} for an input of "
                         f"shape {input.shape}; use less padding")
    n = _spatial(input.shape, cfg)
    full = _geometry(size, wc.shape[:-2], cfg).out  # longer than n when output_padding >= stride
    y = ConvInput.apply(input, weight, None, cfg=cfg, size=size,
                        out=None if full == tuple(n) else tuple(n))
    if bias is not None:
        from .shape import reshape

        shape = (wc.shape[-2] * groups,) + (() if cfg.channels_last else (1,) * nd)
        y = y + reshape(bias, shape)
    return y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, data_format: str = "channels_first"):
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``: input
    (N, C_in, L), weight (C_in, C_out // groups, k); the gradient of conv1d in its input.

    >>> import tidu, tidu.nn.functional as F
    >>> F.conv_transpose1d(tidu.ones(1, 2, 4), tidu.ones(2, 3, 3), stride=2).shape
    (1, 3, 9)
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, data_format)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, data_format: str = "channels_first"):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``: input
    (N, C_in, H, W), weight (C_in, C_out // groups, kh, kw); output size
    (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.

    >>> import tidu, tidu.nn.functional as F
    >>> F.conv_transpose2d(tidu.ones(1, 2, 4, 4), tidu.ones(2, 3, 3, 3), stride=2,
    ...                       padding=1, output_padding=1).shape
    (1, 3, 8, 8)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, data_format)
