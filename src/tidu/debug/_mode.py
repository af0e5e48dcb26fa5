"""How the mistake detectors report: a warning (the default), an error (strict mode) or nothing.

Each detector has its own :class:`TiduWarning` subclass, so that one kind can be filtered with
the ``warnings`` module (``warnings.simplefilter("ignore", tidu.debug.SymmetryWarning)``).
In strict mode the same finding raises :class:`MistakeError` instead, with the same message.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

from ..errors import TiduError

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../tidu
MODES = ("warn", "error", "off")


class TiduWarning(UserWarning):
    """Base class of the warnings of tidu's mistake detectors."""


class BroadcastWarning(TiduWarning):
    """A vector met a row or a column and broadcasting made a square matrix (Text A's bug)."""


class FromLogitsWarning(TiduWarning):
    """Probabilities given to a loss that expects logits, or logits to one that expects
    probabilities."""


class SymmetryWarning(TiduWarning):
    """Weights initialized to one constant: the units of a layer stay identical (Text C)."""


class DivergingLossWarning(TiduWarning):
    """The loss grew for several steps in a row: the learning rate is probably too large."""


class DropoutInEvalWarning(TiduWarning):
    """Dropout still in training mode while evaluating or predicting (inside ``no_grad``)."""


class MistakeError(TiduError, ValueError):
    """A detector's finding in strict mode; ``category`` is the warning class it replaces."""

    def __init__(self, message: str, category: type = TiduWarning):
        super().__init__(message)
        self.category = category


class _Mode:
    value = "warn"


def set_mode(mode: str) -> None:
    """'warn' (the default): detectors warn; 'error': they raise MistakeError; 'off': silent."""
    if mode not in MODES:
        raise ValueError(f"tidu.debug.set_mode: mode must be one of {MODES}, got {mode!r}")
    _Mode.value = mode


def get_mode() -> str:
    """The detectors' current mode: 'warn', 'error' or 'off'."""
    return _Mode.value


@contextlib.contextmanager
def strict(enabled: bool = True):
    """Context manager: inside it every detector raises :class:`MistakeError` instead of
    warning (with ``enabled=False``, it silences them instead)."""
    prev = _Mode.value
    _Mode.value = "error" if enabled else "off"
    try:
        yield
    finally:
        _Mode.value = prev


def is_off() -> bool:
    """Whether the detectors are silenced (a cheap test for callers that do work first)."""
    return _Mode.value == "off"


def _user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside tidu."""
    f = sys._getframe(2)  # the caller of report()
    level = 2
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG):
        f = f.f_back
        level += 1
    return level if f is not None else 2


def report(category: type, message: str) -> None:
    """Warn with ``category`` at the user's line, raise MistakeError in strict mode, or do
    nothing when the detectors are off."""
    mode = _Mode.value
    if mode == "off":
        return
    if mode == "error":
        raise MistakeError(message, category)
    warnings.warn(message, category, stacklevel=_user_stacklevel())
