"""Fused normalization: batch norm, layer norm and group norm, each with its own backward.

All three are one operation, :class:`Normalize`: ``x`` (seen through a reshape ``view`` for
group norm) is centred and scaled by the mean and variance over ``axes``, then multiplied by
``weight`` and shifted by ``bias`` (both reshaped to ``pshape``, the input's rank with ones
where they broadcast). The forward computes the statistics once (two passes, with the
first pass's rounding error corrected, so float32 inputs with a large mean keep their
accuracy) and the backward is the closed form

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * weight,

with the means over ``axes``. :class:`BatchNormTrain` is the same operation that also
updates the running statistics in place (PyTorch's rule, or Keras's through ``momentum``);
:class:`BatchNormEval` normalises with given statistics. Each has a ``vjp`` in tidu
operations (second derivatives, :mod:`tidu.compile`).
"""

from __future__ import annotations

import math

from .._shapes import check_axis
from ..autograd import Function
from ..backend import is_array, xp
from ..errors import DeviceError, ShapeError
from ._device import retry_beside
from ._vjp import is_tensor

__all__ = ["batch_norm", "group_norm", "layer_norm"]

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""


# ----- NumPy kernels -----
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _sum(axes, *arrays):
    """The sum over ``axes`` (kept, length 1) of the product of ``arrays`` (same shape): one
    einsum, which needs no temporary for the product and is several times faster than
    NumPy's reductions over non-contiguous axes."""
    nd = arrays[0].ndim
    sub = _LETTERS[:nd]
    kept = "".join(c for i, c in enumerate(sub) if i not in axes)
    out = xp.einsum(",".join([sub] * len(arrays)) + "->" + kept, *arrays)
    return out.reshape(tuple(1 if i in axes else n for i, n in enumerate(arrays[0].shape)))


def _moments(x, axes):
    """Mean and (population) variance over ``axes`` (kept), and ``x`` minus the mean.

    Two passes; the mean of the centred values (the first pass's rounding error) is folded
    back in, so that a large mean costs no accuracy (no E[x^2] - E[x]^2 cancellation)."""
    n = _count(x.shape, axes)
    mean = _sum(axes, x) / n
    c = x - mean
    err = _sum(axes, c) / n
    var = _sum(axes, c, c) / n - err * err
    xp.maximum(var, 0, out=var)
    c -= err
    return mean + err, var, c


def _reduced(pshape) -> tuple:
    """The axes along which a parameter of broadcast shape ``pshape`` is repeated."""
    return tuple(i for i, s in enumerate(pshape) if s == 1)


def _count(shape, axes) -> int:
    return math.prod(shape[a] for a in axes)


# ----- the operations -----
class Normalize(Function):
    """``(x - mean) * rstd * weight + bias`` with the statistics of ``x`` (viewed as
    ``view``, None: as it is) over ``axes``; ``weight``/``bias`` reshaped to ``pshape``."""

    def forward(self, x, weight, bias, *, view, axes, pshape, eps):
        xv = x if view is None else x.reshape(view)
        mean, var, c = _moments(xv, axes)
        rstd = 1.0 / xp.sqrt(var + eps)
        xhat = c
        xhat *= rstd
        self.mean, self.var, self.xhat, self.rstd = mean, var, xhat, rstd
        self.shape, self.axes, self.pshape = x.shape, axes, pshape
        self.weight = weight
        self.wshape = None if weight is None else weight.shape
        self.bshape = None if bias is None else bias.shape
        out = xhat.reshape(x.shape)
        if weight is not None:
            out = out * weight.reshape(pshape)  # a new array: the bias may go in in place
            if bias is not None and xp.result_type(out, bias) == out.dtype:
                out += bias.reshape(pshape)
                return out
        if bias is not None:
            out = out + bias.reshape(pshape)
        return out

    def backward(self, g):
        need = self.needs_grad
        xhat, axes = self.xhat, self.axes
        dx = dw = db = None
        if need[0]:
            gh = g if self.weight is None else g * self.weight.reshape(self.pshape)
            gh = gh.reshape(xhat.shape)
            n = _count(xhat.shape, axes)
            dx = xhat * (_sum(axes, gh, xhat) / -n)
            dx += gh
            dx -= _sum(axes, gh) / n
            dx *= self.rstd
            dx = dx.reshape(self.shape)
        red = _reduced(self.pshape)
        if need[1]:
            dw = _sum(red, g, xhat.reshape(self.shape)).reshape(self.wshape)
        if need[2]:
            db = _sum(red, g).reshape(self.bshape)
        return dx, dw, db

    @staticmethod
    def vjp(g, x, weight, bias, *, view, axes, pshape, eps):
        return _normalize_vjp(g, x, weight, bias, view, axes, pshape, eps)


class BatchNormTrain(Normalize):
    """:class:`Normalize` with batch statistics that also updates ``running_mean`` and
    ``running_var`` in place: ``running = (1 - rate) * running + rate * batch`` with
    ``rate = momentum`` (PyTorch's; Keras's ``momentum`` is ``1 - rate``), or
    ``1 / counter`` when ``momentum`` is None (a cumulative average); the variance is the
    unbiased one when ``unbiased`` (PyTorch) and the population one otherwise (Keras).
    ``counter`` (a 0-d array, PyTorch's num_batches_tracked) is incremented. The update is
    part of the operation, so that a compiled step (``jit_compile``) makes it too."""

    def forward(self, x, weight, bias, running_mean, running_var, counter, *, view, axes,
                pshape, eps, momentum, unbiased):
        out = super().forward(x, weight, bias, view=view, axes=axes, pshape=pshape, eps=eps)
        if counter is not None:
            counter += 1
        if running_mean is None and running_var is None:
            return out
        rate = momentum if momentum is not None else 1.0 / float(counter)
        if running_mean is not None:
            running_mean *= 1.0 - rate
            running_mean += rate * self.mean.reshape(running_mean.shape)
        if running_var is not None:
            n = _count(self.xhat.shape, axes)
            var = self.var * (n / (n - 1)) if unbiased else self.var
            running_var *= 1.0 - rate
            running_var += rate * var.reshape(running_var.shape)
        return out

    def backward(self, g):
        return (*super().backward(g), None, None, None)

    @staticmethod
    def vjp(g, x, weight, bias, running_mean, running_var, counter, *, view, axes, pshape,
            eps, momentum, unbiased):
        grads = _normalize_vjp(g, x, weight, bias, view, axes, pshape, eps)
        return (*grads, None, None, None)


class BatchNormEval(Function):
    """``(x - running_mean) / sqrt(running_var + eps) * weight + bias`` with given statistics
    (inference); differentiable in all five inputs."""

    def forward(self, x, running_mean, running_var, weight, bias, *, pshape, eps):
        inv = (1.0 / xp.sqrt(running_var + eps)).reshape(pshape)
        mean = running_mean.reshape(pshape).copy()  # the running arrays change later
        self.x, self.mean, self.inv, self.pshape = x, mean, inv, pshape
        self.shapes = (running_mean.shape, running_var.shape,
                       None if weight is None else weight.shape,
                       None if bias is None else bias.shape)
        self.weight = None if weight is None else weight.reshape(pshape).copy()
        scale = inv if weight is None else inv * self.weight
        out = (x - mean) * scale
        if bias is not None:
            out = out + bias.reshape(pshape)
        return out

    def backward(self, g):
        need, red = self.needs_grad, _reduced(self.pshape)
        w = 1.0 if self.weight is None else self.weight
        gs = g * (self.inv * w)
        grads = [gs if need[0] else None, None, None, None, None]
        if need[1]:
            grads[1] = -gs.sum(axis=red).reshape(self.shapes[0])
        if need[2] or need[3]:
            gc = (g * (self.x - self.mean)).sum(axis=red, keepdims=True)
            if need[2]:
                grads[2] = (gc * w * (-0.5 * self.inv ** 3)).reshape(self.shapes[1])
            if need[3]:
                grads[3] = (gc * self.inv).reshape(self.shapes[2])
        if need[4]:
            grads[4] = g.sum(axis=red).reshape(self.shapes[3])
        return tuple(grads)

    @staticmethod
    def vjp(g, x, running_mean, running_var, weight, bias, *, pshape, eps):
        from .elementwise import sqrt
        from .reduce import sum as tsum
        from .shape import reshape, reshape_like

        red = _reduced(pshape)
        x, mean, var = _as_tensor(x), reshape(running_mean, pshape), reshape(running_var, pshape)
        inv = 1.0 / sqrt(var + eps)
        w = None if weight is None else reshape(weight, pshape)
        gs = g * inv if w is None else g * (inv * w)
        gc = tsum(g * (x - mean), red, keepdims=True)
        return (
            gs if is_tensor(x) else None,
            reshape_like(-tsum(gs, red), running_mean) if is_tensor(running_mean) else None,
            reshape_like(gc * (-0.5 * inv ** 3) * (1.0 if w is None else w), running_var)
            if is_tensor(running_var) else None,
            reshape_like(gc * inv, weight) if is_tensor(weight) else None,
            reshape_like(tsum(g, red), bias) if is_tensor(bias) else None,
        )


def _as_tensor(x):
    from ..tensor import Tensor

    return x if is_tensor(x) else Tensor(x if is_array(x) else xp.asarray(x))


def _normalize_vjp(g, x, weight, bias, view, axes, pshape, eps):
    """Normalize's gradients (x, weight, bias) in tidu operations, statistics recomputed."""
    from .elementwise import sqrt
    from .reduce import mean as tmean
    from .reduce import sum as tsum
    from .shape import reshape, reshape_like

    xt = _as_tensor(x)
    xv = xt if view is None else reshape(xt, view)
    c = xv - tmean(xv, axes, keepdims=True)
    rstd = 1.0 / sqrt(tmean(c * c, axes, keepdims=True) + eps)
    xhat = c * rstd
    dx = dw = db = None
    if is_tensor(x):
        gh = g if weight is None else g * reshape(weight, pshape)
        gh = gh if view is None else reshape(gh, view)
        dx = rstd * (gh - tmean(gh, axes, keepdims=True)
                     - xhat * tmean(gh * xhat, axes, keepdims=True))
        dx = reshape_like(dx, x)
    red = _reduced(pshape)
    if is_tensor(weight):
        full = xhat if view is None else reshape_like(xhat, xt)
        dw = reshape_like(tsum(g * full, red), weight)
    if is_tensor(bias):
        db = reshape_like(tsum(g, red), bias)
    return dx, dw, db


# ----- argument checks -----
def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else xp.shape(x)


def _check_param(p, want: tuple, what: str, op: str, detail: str) -> None:
    if p is None:
        return
    have = _shape(p)
    if have != want:
        raise ShapeError(f"{op}: {what} has shape {have}, expected {want} {detail}")


def _channel_axis(x, axis, op: str) -> tuple:
    """(shape, channel axis) of an input that needs a batch axis and a channel axis."""
    shape = _shape(x)
    if len(shape) < 2:
        raise ShapeError(f"{op}: expects an input with a batch axis and a channel axis (at "
                         f"least 2-D), got an input of shape {shape}")
    a = check_axis(axis, len(shape), op)
    if a == 0:
        raise ShapeError(f"{op}: axis={axis} is the batch axis; the channel axis must be "
                         f"another one (1 for NCHW, -1 for NHWC), input shape {shape}")
    return shape, a


def _channel_pshape(nd: int, a: int, c: int) -> tuple:
    return tuple(c if i == a else 1 for i in range(nd))


# ----- public functions -----
def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5, *,
               axis: int = 1):
    """Batch normalization per channel (torch.nn.functional.batch_norm).

    In training, normalises with the statistics of the batch (over every axis but the
    channel axis ``axis``) and updates ``running_mean``/``running_var`` (arrays or Tensors,
    if given) in place: ``running = (1 - momentum) * running + momentum * batch``, with the
    unbiased batch variance for ``running_var``. In inference, normalises with the running
    statistics. ``weight`` and ``bias`` (one value per channel) scale and shift the result.
    ``axis`` is keyword-only: 1 (PyTorch's NCHW, the default) or -1 (channels last).

    >>> import tidu, numpy as np
    >>> x = tidu.tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> rm, rv = np.zeros(2), np.ones(2)
    >>> tidu.nn.functional.batch_norm(x, rm, rv, training=True, eps=0.0).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> rm.tolist(), rv.tolist()
    ([0.2, 2.0], [1.1, 20.9])
    """
    shape, a = _channel_axis(input, axis, "batch_norm")
    c, nd = shape[a], len(shape)
    detail = f"(one per channel: the input of shape {shape} has {c} channels on axis {a})"
    for p, what in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"),
                    (running_var, "running_var")):
        _check_param(p, (c,), what, "batch_norm", detail)
    pshape = _channel_pshape(nd, a, c)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: inference (training=False) normalises with "
                             "running_mean and running_var; give both, or training=True")
        args = (input, running_mean, running_var, weight, bias)
        try:
            return BatchNormEval.apply(*args, pshape=pshape, eps=float(eps))
        except DeviceError:  # host statistics (NumPy arrays) beside a device input
            return retry_beside(BatchNormEval.apply, *args, pshape=pshape, eps=float(eps))
    if momentum is None:
        raise ValueError("batch_norm: momentum must be a number (None, the cumulative "
                         "average, needs a batch counter: use tidu.nn.BatchNorm2d)")
    return _train(input, weight, bias, running_mean, running_var, None, a, momentum, eps)


def _train(x, weight, bias, running_mean, running_var, counter, a, momentum, eps,
           unbiased: bool = True):
    """Training-mode batch norm on channel axis ``a`` (checked), the layers' entry point."""
    shape = _shape(x)
    axes = tuple(i for i in range(len(shape)) if i != a)
    if None not in shape and _count(shape, axes) <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                         f"training, got an input of shape {shape}")
    return BatchNormTrain.apply(
        x, weight, bias, running_mean, running_var, counter, view=None, axes=axes,
        pshape=_channel_pshape(len(shape), a, shape[a]), eps=float(eps),
        momentum=None if momentum is None else float(momentum), unbiased=unbiased)


def _eval(x, weight, bias, running_mean, running_var, a, eps):
    """Inference-mode batch norm on channel axis ``a`` (checked), for the layers."""
    shape = _shape(x)
    return BatchNormEval.apply(x, running_mean, running_var, weight, bias,
                               pshape=_channel_pshape(len(shape), a, shape[a]), eps=float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Layer normalization over the trailing ``normalized_shape`` axes of each sample
    (torch.nn.functional.layer_norm); ``weight``/``bias`` have shape ``normalized_shape``.

    >>> import tidu
    >>> tidu.nn.functional.layer_norm(tidu.tensor([[1.0, 3.0]]), (2,), eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    ns = tuple(int(n) for n in ns)
    shape = _shape(input)
    k = len(ns)
    if k == 0 or len(shape) < k or shape[len(shape) - k:] != ns:
        raise ShapeError(f"layer_norm: normalized_shape {ns} must be the last dimensions of "
                         f"the input, got an input of shape {shape}")
    axes = tuple(range(len(shape) - k, len(shape)))
    return _over(input, axes, weight, bias, eps, "layer_norm")


def _over(x, axes, weight, bias, eps, op: str = "layer_norm"):
    """Normalise each sample over ``axes`` (sorted, checked); ``weight``/``bias`` of shape
    ``x``'s sizes on ``axes`` (Keras's LayerNormalization with any axes)."""
    shape = _shape(x)
    want = tuple(shape[a] for a in axes)
    detail = f"(the sizes of axes {axes} of the input of shape {shape})"
    _check_param(weight, want, "weight", op, detail)
    _check_param(bias, want, "bias", op, detail)
    pshape = tuple(shape[i] if i in axes else 1 for i in range(len(shape)))
    return Normalize.apply(x, weight, bias, view=None, axes=axes, pshape=pshape,
                           eps=float(eps))


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5, *,
               axis: int = 1):
    """Group normalization (torch.nn.functional.group_norm): the channels (axis ``axis``,
    1 for NCHW, -1 for channels last) are split into ``num_groups`` groups, and each
    sample's group is normalised over its channels and all other axes; ``weight``/``bias``
    have one value per channel.

    >>> import tidu
    >>> x = tidu.tensor([[[1.0, 3.0], [5.0, 7.0]]])  # (N, C, L) = (1, 2, 2)
    >>> tidu.nn.functional.group_norm(x, 2, eps=0.0).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    shape, a = _channel_axis(input, axis, "group_norm")
    c, g = shape[a], num_groups
    if isinstance(g, bool) or not isinstance(g, int) or g < 1:
        raise ValueError(f"group_norm: num_groups must be a positive integer, got {g!r}")
    if c % g:
        raise ValueError(f"group_norm: the input's {c} channels (axis {a} of shape {shape}) "
                         f"cannot be split into num_groups={g} equal groups")
    detail = f"(one per channel: the input of shape {shape} has {c} channels on axis {a})"
    _check_param(weight, (c,), "weight", "group_norm", detail)
    _check_param(bias, (c,), "bias", "group_norm", detail)
    view = tuple(-1 if n is None else n for n in (*shape[:a], g, c // g, *shape[a + 1:]))
    if view.count(-1) > 1:
        raise ShapeError(f"group_norm: an input of shape {shape} has more than one unknown "
                         "size; give the sizes of all axes but the batch axis")
    axes = tuple(i for i in range(1, len(shape) + 1) if i != a)
    return Normalize.apply(input, weight, bias, view=view, axes=axes,
                           pshape=_channel_pshape(len(shape), a, c), eps=float(eps))
