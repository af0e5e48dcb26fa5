"""One source of randomness: a NumPy Generator that ``manual_seed`` resets.

Initializers, dropout masks and shuffling all draw from :func:`get_generator`, so one
``tidu.manual_seed(n)`` call reproduces a whole run.
"""

from __future__ import annotations

import numpy as np

_state = {"rng": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed tidu's global generator and return it."""
    _state["rng"] = np.random.default_rng(seed)
    return _state["rng"]


def get_generator() -> np.random.Generator:
    """The global generator (a ``numpy.random.Generator``)."""
    return _state["rng"]


def generator(seed: int | None = None) -> np.random.Generator:
    """A new generator from ``seed``, or the global one when ``seed`` is None."""
    return _state["rng"] if seed is None else np.random.default_rng(seed)
