"""Optional compiled kernels for the loops NumPy cannot fuse (numba, when installed).

An optimizer step in NumPy is a chain of whole-array passes: RMSprop's rule alone is eight,
each reading and writing every weight, and the finite check reads them again. A compiled
loop does the rule, the check and the proposal in one pass. tidu uses one only where it
gives the same bits as the NumPy code it replaces (same operations, same order, same
dtype; no fast-math), so results do not depend on whether numba is installed, and NumPy
alone stays correct.

The kernels: the optimizer rules of SGD, RMSprop, Adam and AdamW (:mod:`tidu.accel.optim`),
max pooling over windows that do not overlap (:mod:`tidu.accel.pool`), the rectifier
in place and its backward and the max-shift of softmax (:mod:`tidu.accel.activation`), a 2-D
convolution's im2col and col2im (:mod:`tidu.accel.conv`), the dense layer's bias, rectifier
and bias gradient (:mod:`tidu.accel.affine`), and the reduced softmax cross-entropy's
passes between NumPy's exp and log (:mod:`tidu.accel.crossentropy`), which sum in NumPy's
order (:mod:`tidu.accel.reduce`). All are serial: numba's OpenMP threads, left spinning
between loops, took cores from BLAS and slowed everything else down.

numba is imported on the first use, never by ``import tidu``. Switch the kernels off with
``tidu.accel.enable(False)`` or the environment variable ``TIDU_ACCEL=0``.

>>> import tidu.accel
>>> isinstance(tidu.accel.enabled(), bool)
True
"""

from __future__ import annotations

import contextlib
import importlib.util
import os

import numpy as np

from .._env import switch

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes the kernels take."""

__all__ = ["available", "enabled", "enable", "disabled", "kernels", "relu_backward",
           "shift_by_max", "log_softmax_dot", "softmax_xent_grad", "bias_relu",
           "relu_backward_bias", "column_sums", "relu_", "scalars"]

_wanted = switch("TIDU_ACCEL")
_available: bool | None = None  # numba importable: found out on the first question
_modules: dict = {}  # kernel modules by name, imported on first use


def available() -> bool:
    """Whether numba can be imported (checked once, without importing it)."""
    global _available
    if _available is None:
        _available = importlib.util.find_spec("numba") is not None
    return _available


def enabled() -> bool:
    """Whether tidu uses the compiled kernels now: numba is installed and they are on."""
    return _wanted and available()


def enable(flag: bool = True) -> None:
    """Use the compiled kernels (``True``, the default when numba is installed) or the NumPy
    code (``False``); both give the same results."""
    global _wanted
    _wanted = bool(flag)


@contextlib.contextmanager
def disabled():
    """Run a block with the NumPy code only (for comparisons and tests)."""
    global _wanted
    before = _wanted
    _wanted = False
    try:
        yield
    finally:
        _wanted = before


def kernels(name: str):
    """The kernel module ``tidu.accel.<name>`` ('optim', 'pool', 'activation', 'conv',
    'affine', 'crossentropy'), imported on first use, or None when the kernels are not
    enabled."""
    mod = _modules.get(name) if _wanted else None  # imported before: numba is there
    if mod is not None:
        return mod
    if not enabled():
        return None
    mod = _modules.get(name)
    if mod is None:
        import importlib

        # numba's colored error messages initialize colorama, which writes a terminal reset
        # code to stdout at exit: stray bytes in a user's piped or logged output
        os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
        mod = _modules[name] = importlib.import_module(f"{__name__}.{name}")
    return mod


def relu_backward(g, y, out=None):
    """The rectifier's backward ``g * (y > 0)`` for its output ``y`` (into ``out`` if given,
    an array like ``g``): one compiled loop (:mod:`tidu.accel.activation`) where it applies,
    NumPy otherwise; the same bits."""
    k = kernels("activation")
    if k is not None and k.usable(g, y) and (out is None or k.usable(out, g)):
        return k.relu_backward(g, y, out)
    if out is None:
        return g * (y > 0)
    return np.multiply(g, y > 0, out=out)


def relu_(y) -> None:
    """``max(y, 0)`` in place: one compiled loop (:mod:`tidu.accel.activation`) on a
    C-contiguous float array, NumPy's ``maximum`` otherwise; the same bits."""
    k = kernels("activation")
    if k is not None and type(y) is np.ndarray and y.dtype in _FLOATS and y.flags.c_contiguous:
        k.relu_(y)
    else:
        np.maximum(y, 0, out=y)


def shift_by_max(x, axis=-1):
    """``x - x.max(axis=axis, keepdims=True)``, the stable shift of softmax and log-sum-exp:
    one compiled loop along a contiguous last axis (:mod:`tidu.accel.activation`), NumPy
    otherwise; the same bits."""
    k = kernels("activation")
    if k is not None and k.shift_usable(x, axis):
        return k.shift_by_max(x)
    return x - x.max(axis=axis, keepdims=True)


def log_softmax_dot(x, t, axis=-1):
    """``(log_softmax(x), sum(log_softmax(x) * t))`` along a contiguous last axis (the
    reduced cross-entropy's forward, :mod:`tidu.accel.crossentropy`), the total a Python
    float; None where NumPy must run. The same bits."""
    k = kernels("crossentropy")
    if k is None or not k.usable(x, t, axis):
        return None
    return k.log_softmax_dot(x, t)


def softmax_xent_grad(p, t, g, axis=-1) -> bool:
    """``p = (p * t.sum(axis, keepdims=True) - t) * g`` in place for the softmax ``p`` and a
    scalar ``g`` of its dtype (the cross-entropy's backward); False, nothing done, where
    NumPy must run. The same bits."""
    k = kernels("crossentropy")
    if k is None or not k.usable(p, t, axis) or getattr(g, "ndim", 1) != 0 \
            or g.dtype != p.dtype:
        return False
    k.grad(p, t, g[()] if type(g) is np.ndarray else g)
    return True


def bias_relu(y, b, relu: bool) -> bool:
    """``y += b`` and, with ``relu``, ``max(y, 0)`` in place, in one compiled pass over the
    rows of ``y`` (:mod:`tidu.accel.affine`); False, nothing done, where NumPy must run."""
    k = kernels("affine")
    return k is not None and k.bias_relu(y, b, relu)


def relu_backward_bias(g, y):
    """``(g * (y > 0), its sum over all axes but the last)`` in one compiled pass, or None
    where NumPy must run. The same bits."""
    k = kernels("affine")
    return None if k is None else k.relu_backward_bias(g, y)


def column_sums(g):
    """``g`` summed over all axes but the last, compiled where it applies (None otherwise)."""
    k = kernels("affine")
    return None if k is None else k.column_sums(g)


_scalars: dict = {}


def scalars(dtype, *values) -> tuple:
    """``values`` as NumPy scalars of ``dtype``, the way NumPy casts a Python float meeting an
    array of that dtype (so a kernel computes in the array's precision). Cached: a step asks
    the same for every parameter."""
    key = (dtype, values)
    out = _scalars.get(key)
    if out is None:
        if len(_scalars) > 256:  # schedules ask for a new rate each step
            _scalars.clear()
        f = dtype.type
        out = _scalars[key] = tuple([f(v) for v in values])
    return out
