"""Grad mode: whether operations record the graph (``no_grad``, ``enable_grad``).

One flag, read by :meth:`tidu.autograd.Function.apply` on every call; kept apart from the
engine so that the switch a user reaches for first is one short file.
"""

from __future__ import annotations

import contextlib


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph."""
    return _GradMode.enabled


@contextlib.contextmanager
def _set_grad(enabled: bool):
    prev = _GradMode.enabled
    _GradMode.enabled = enabled
    try:
        yield
    finally:
        _GradMode.enabled = prev


def no_grad(fn=None):
    """Context manager (and decorator, with or without parentheses) recording no graph.

    >>> import tidu
    >>> w = tidu.tensor([1.0, 2.0], requires_grad=True)
    >>> with tidu.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @tidu.no_grad
    ... def double(t):
    ...     return t * 2
    >>> double(w).requires_grad
    False
    """
    if callable(fn):
        return _set_grad(False)(fn)
    return _set_grad(False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad``."""
    return _set_grad(True)
