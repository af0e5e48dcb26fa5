"""Host constants beside device tensors.

A NumPy array (or list) that a program passes to an operation next to a tensor on a device
(an index, a mask, a constant operand) is data, as a Python number is: it goes to the
tensor's device. Tensors are never moved: a CPU tensor mixed with a device tensor is still
an error. The CPU path pays nothing: callers convert only after the device check failed
(:func:`retry_beside`) or where the value is converted anyway (:func:`beside`).
"""

from __future__ import annotations

from .. import autograd
from ..backend import asarray_like, is_array, xp


def device_array(*xs):
    """The first array among ``xs`` (arrays or tensors) that lives off the host, else None."""
    T = autograd.Tensor
    for x in xs:
        d = x.data if isinstance(x, T) else x
        if type(d) is not xp.ndarray and is_array(d):
            return d
        if isinstance(x, (tuple, list)):
            d = device_array(*x)
            if d is not None:
                return d
    return None


def beside(value, *xs, dtype=None):
    """``value`` (an array, list or scalar) as an array beside the device arrays among
    ``xs``: on their device if one of them lives on a device, else a NumPy array."""
    if isinstance(value, autograd.Tensor):
        value = value.data
    d = device_array(*xs)
    if d is None:
        return xp.asarray(value, dtype=dtype)
    return asarray_like(value, d, dtype)


def hosted(args):
    """``args`` with the raw NumPy arrays among them moved to the device of the device
    tensors among them, or None when there is nothing to move."""
    d = device_array(*args)
    if d is None or not any(type(a) is xp.ndarray for a in args):
        return None
    return [asarray_like(a, d) if type(a) is xp.ndarray else a for a in args]


def retry_beside(fn, *args, **kwargs):
    """Call ``fn(*args)`` again with raw NumPy arrays moved beside the device tensors; for
    use in an ``except DeviceError`` block (re-raises when nothing can be moved)."""
    moved = hosted(args)
    if moved is None:
        raise
    return fn(*moved, **kwargs)


def zeros_beside(like, shape, dtype=None):
    """Zeros of ``shape`` on ``like``'s device (NumPy's own ``zeros`` for NumPy arrays)."""
    if type(like) is xp.ndarray:
        return xp.zeros(shape, dtype=like.dtype if dtype is None else dtype)
    return xp.zeros_like(like, shape=shape, dtype=dtype)


def index_beside(index, like):
    """An index key for the device array ``like``: NumPy arrays in it (also inside a tuple)
    moved to ``like``'s device; the key itself when ``like`` is a NumPy array."""
    if type(like) is xp.ndarray:
        return index
    if isinstance(index, tuple):
        return tuple(asarray_like(i, like) if type(i) is xp.ndarray else i for i in index)
    if type(index) is xp.ndarray:
        return asarray_like(index, like)
    return index
