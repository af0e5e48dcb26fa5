"""In-place operations, and the version counters that keep autodiff honest about them.

Changing a tensor in place (``t.add_(1)``, ``t[0] = 5``, an optimizer step) bumps its
``version``. Every recorded node notes when it was made; if one of its inputs was changed
in place afterwards, backward through that node raises an error that names the operation
and the tensor instead of silently mixing old and new values (PyTorch's "modified by an
inplace operation").

With gradients on, an in-place operation on a tensor that is part of a graph is recorded:
the tensor takes the result's value *and* its place in the graph, as in PyTorch. A leaf
that requires grad cannot be changed in place outside ``tidu.no_grad()`` (an optimizer
writes its parameters under ``no_grad``).

>>> import tidu
>>> w = tidu.tensor([1.0, 2.0], requires_grad=True)
>>> loss = (w * w).sum()
>>> with tidu.no_grad():
...     _ = w.sub_(0.5)
>>> w.version
1
>>> try:
...     loss.backward()
... except tidu.GradientError as e:
...     print(str(e)[:58])
backward: Mul used a tensor that was then changed in place
"""

from __future__ import annotations

import numpy as np

from . import autograd, backend, ops
from .errors import GradientError
from .ops._device import index_beside
from .safety import bump_version

Tensor = None  # bound by tidu.tensor


def bump(t) -> None:
    """Record that ``t`` was changed in place (its version and the global change stamp)."""
    bump_version(t)


def _label(t) -> str:
    return f"'{t.name}' " if t.name else ""


def _apply(t, name: str, compute):
    """Give ``t`` the value of ``compute(old)``, in place; ``old`` stands for t's old value."""
    grad_on = autograd.is_grad_enabled()
    if grad_on and t._node is None and t._requires_grad:
        raise GradientError(
            f"{name}: tensor {_label(t)}of shape {t.shape} is a leaf that requires grad and "
            "cannot be changed in place while gradients are recorded; do it under "
            "`with tidu.no_grad():` (as an optimizer does), or change a copy (t.detach())")
    if not grad_on:
        with autograd.no_grad():
            res = compute(t)
        _store(t, name, res)
        bump(t)
        return t
    # the old value gets its own Tensor (a copy of the array, so that the new node's own
    # backward still sees it); t then becomes the result, in value and in the graph
    old = Tensor._make(t.data.copy(), t._requires_grad, t._node)
    res = compute(old)
    _store(t, name, res)
    t._node, t._requires_grad = res._node, res._requires_grad
    bump(t)
    return t


def _store(t, name: str, res) -> None:
    new = res.data if isinstance(res, Tensor) else backend.asarray_like(res, t.data)
    if new.shape != t.data.shape:
        raise GradientError(f"{name}: the result has shape {new.shape} but the tensor being "
                            f"changed in place has shape {t.data.shape}; an in-place "
                            "operation cannot change a tensor's shape")
    if new.dtype != t.data.dtype and not np.can_cast(new.dtype, t.data.dtype, "same_kind"):
        raise TypeError(f"{name}: the result type {new.dtype} cannot be stored in a tensor of "
                        f"dtype {t.data.dtype}")
    if not getattr(t.data.flags, "writeable", True):  # CuPy's flags have none: writable
        t.data = t.data.copy()
    np.copyto(t.data, new, casting="unsafe")


def add_(self, other, alpha=1):
    """``self += alpha * other``, in place; returns self."""
    return _apply(self, "add_", lambda x: ops.add(x, other if alpha == 1 else
                                                  ops.mul(other, alpha)))


def sub_(self, other, alpha=1):
    """``self -= alpha * other``, in place; returns self."""
    return _apply(self, "sub_", lambda x: ops.sub(x, other if alpha == 1 else
                                                  ops.mul(other, alpha)))


def mul_(self, other):
    """``self *= other``, in place; returns self."""
    return _apply(self, "mul_", lambda x: ops.mul(x, other))


def div_(self, other):
    """``self /= other``, in place; returns self."""
    return _apply(self, "div_", lambda x: ops.div(x, other))


def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit the values to [min, max], in place; returns self."""
    return _apply(self, "clamp_", lambda x: ops.clip(x, min, max))


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor), in place; returns self."""
    def compute(x):
        v = value if isinstance(value, Tensor) else backend.xp.asarray(value, x.dtype)
        return ops.broadcast_like(v, x)  # x's shape; no gradient to x's old value
    return _apply(self, "fill_", compute)


def zero_(self):
    """Set every element to 0, in place; returns self."""
    return fill_(self, 0)


def copy_(self, src):
    """Copy ``src``'s values (broadcast to self's shape) into self; returns self.

    The gradient flows to ``src``, none to self's old value, as in PyTorch."""
    return _apply(self, "copy_", lambda x: ops.broadcast_like(
        src if isinstance(src, Tensor) else backend.xp.asarray(src, x.dtype), x))


def setitem(self, index, value) -> None:
    """``t[index] = value``: the selected elements take the value (broadcast), in place.

    With gradients on, the gradient flows to ``value`` and to the elements of the old
    tensor that were not overwritten."""
    if not autograd.is_grad_enabled() or not (
            self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        if self._node is None and self._requires_grad and autograd.is_grad_enabled():
            _apply(self, "__setitem__", None)  # raises: a leaf that requires grad
        idx = index.data if isinstance(index, Tensor) else index
        if isinstance(idx, tuple):
            idx = tuple(i.data if isinstance(i, Tensor) else i for i in idx)
        if not getattr(self.data.flags, "writeable", True):
            self.data = self.data.copy()
        v = value.data if isinstance(value, Tensor) else value
        if type(self.data) is not np.ndarray:  # host keys and values go to the device
            idx = index_beside(idx, self.data)
            if isinstance(v, (list, np.ndarray)):
                v = backend.asarray_like(v, self.data)
        self.data[idx] = v
        bump(self)
        return
    _apply(self, "__setitem__", lambda x: ops.index_put(x, index, value))
