"""tidu.debug: the framework tells you what is going wrong while it goes wrong.

* **Verified mode** (:func:`verified`, the :class:`Verify` callback): a sample of the
  operations of a real run have their backward checked against float64 finite differences;
  a wrong one (a custom :class:`tidu.Function` included) raises :class:`VerificationError`
  naming it, the input, the worst error and the line that created it.
* **Mistake detectors**, on by default as warnings (:class:`TiduWarning` subclasses), errors
  inside :func:`strict`: a vector broadcast against a row or column into a square matrix
  (Text A's ``(m,)`` labels against ``(1, m)`` predictions), probabilities passed to a
  ``from_logits=True`` loss or logits to a probability loss (judged on a loss object's
  first ``Loss.JUDGED_CALLS`` calls, and on every functional call), all-constant weights (Text C's
  symmetry), a loss that keeps growing (:class:`WatchLoss`, :class:`LossWatcher`), dropout
  still on while evaluating under ``tidu.no_grad()``.
* :func:`watch`: kept for older code; the operation-level detector is on by default.
"""

from __future__ import annotations

from ._mode import (
    BroadcastWarning,
    DivergingLossWarning,
    DropoutInEvalWarning,
    FromLogitsWarning,
    MistakeError,
    SymmetryWarning,
    TiduWarning,
    get_mode,
    set_mode,
    strict,
)
from .detectors import LossWatcher, square_broadcast
from .verified import VerificationError, Verifier, verified, watch

__all__ = [
    "BroadcastWarning", "DivergingLossWarning", "DropoutInEvalWarning", "FromLogitsWarning",
    "LossWatcher", "MistakeError", "SymmetryWarning", "TiduWarning", "VerificationError",
    "Verifier", "Verify", "WatchLoss", "get_mode", "set_mode", "square_broadcast", "strict",
    "verified", "watch",
]


def __getattr__(name: str):
    """The callbacks (``Verify``, ``WatchLoss``) import tidu.callbacks and tidu.optim: they
    load on first access, so the operations' detectors can import tidu.debug cheaply."""
    if name in ("Verify", "WatchLoss", "callbacks"):
        import importlib  # not 'from . import callbacks': its hasattr would call back here

        callbacks = importlib.import_module(__name__ + ".callbacks")
        globals().update(callbacks=callbacks, Verify=callbacks.Verify,
                         WatchLoss=callbacks.WatchLoss)
        return globals()[name]
    raise AttributeError(f"module 'tidu.debug' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Every name of tidu.debug, the lazy callbacks included."""
    return sorted({*globals(), *__all__, "callbacks"})

