"""Argument checks that the layout, diagonal and padding ops share: ints (or sequences of
ints) as tuples, with a message that names the op and the argument.

Their own module so that :mod:`tidu.ops.layout`, :mod:`tidu.ops.layout_diagonals` and
:mod:`tidu.ops.padding` can all import them without importing each other.
"""

from __future__ import annotations

import operator


def _ints(value, what: str, op: str) -> tuple:
    """An int or a sequence of ints as a tuple of ints."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    try:
        if any(isinstance(v, bool) for v in items):
            raise TypeError
        return tuple(operator.index(v) for v in items)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a sequence of ints, "
                        f"got {value!r}") from None


def _int(value, what: str, op: str) -> int:
    if isinstance(value, (tuple, list)):
        raise TypeError(f"{op}: {what} must be an int, got {value!r}")
    return _ints(value, what, op)[0]


def _sizes_arg(sizes: tuple):
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` alike."""
    return sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
