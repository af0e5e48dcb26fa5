"""Shape helpers: the one place where broadcast gradients are reduced back."""

from __future__ import annotations

import operator

from .errors import ShapeError


def sum_to(grad, shape: tuple, op: str = "op"):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Raises:
        ShapeError: ``grad`` cannot have come from broadcasting an array of ``shape``.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"{op}: gradient of shape {grad.shape} cannot be reduced to {shape}")
    axes = list(range(lead))
    for i, n in enumerate(shape):
        m = grad.shape[lead + i]
        if n == 1 and m != 1:
            axes.append(lead + i)
        elif n != m:
            raise ShapeError(
                f"{op}: backward produced a gradient of shape {grad.shape} for an input of "
                f"shape {shape}"
            )
    if axes:
        grad = grad.sum(axis=tuple(axes), keepdims=True)
    return grad.reshape(shape)


def check_axis(axis, ndim: int, op: str = "op") -> int:
    """Return ``axis`` (which may be negative) as a non-negative int below ``ndim``.

    Raises:
        TypeError: ``axis`` is not an integer.
        ShapeError: ``axis`` is outside [-ndim, ndim).
    """
    try:
        if isinstance(axis, bool):
            raise TypeError
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r}") from None
    if not -ndim <= a < ndim:
        valid = f"valid: {-ndim} to {ndim - 1}" if ndim else "it has no axes"
        raise ShapeError(
            f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions ({valid})"
        )
    return a % ndim


def normalize_axis(axis, ndim: int, op: str = "op"):
    """Return ``axis`` as a sorted tuple of non-negative ints, or None for all axes.

    Raises:
        ShapeError: an axis out of range, or the same axis twice.
    """
    if axis is None:
        return None
    if not isinstance(axis, (tuple, list)):
        axis = (axis,)
    if ndim == 0 and all(not isinstance(a, bool) and a in (0, -1) for a in axis):
        return ()  # a 0-d tensor has one implicit axis, as in PyTorch: reduce over nothing
    out = tuple(sorted(check_axis(a, ndim, op) for a in axis))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: axis {tuple(axis)} names the same axis twice")
    return out


def expand_reduced(grad, in_shape: tuple, axis, keepdims: bool):
    """Reshape the gradient of a reduction so that it broadcasts against the input."""
    if axis is None:
        return grad.reshape((1,) * len(in_shape)) if not keepdims else grad
    if keepdims:
        return grad
    shape = list(in_shape)
    for a in axis:
        shape[a] = 1
    return grad.reshape(shape)
