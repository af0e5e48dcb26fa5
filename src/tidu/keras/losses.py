"""``keras.losses``: tidu's Keras-style losses (classes and per-sample functions)."""

from ..losses import *  # noqa: F403
from ..losses import __all__ as _all

__all__ = [n for n in _all if n not in ("ALIASES", "EPSILON")]
