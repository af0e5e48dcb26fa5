"""Checks of the numbers optimizers are given: rates, decays, clipping thresholds."""

from __future__ import annotations

import math

from .. import backend
from . import schedules

xp = backend.xp


def check_number(owner: str, name: str, value, low: float = 0.0, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float after checking it is a real number in the given interval."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and \
            (value < high if high_open else value <= high)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{owner}: {name} must be a number in {lo}{low}, {high}{hi}, "
                         f"got {value!r}")
    return float(value)


def is_rate(value) -> bool:
    """Whether ``value`` is a learning rate (a number or a schedule), not parameters."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or \
        isinstance(value, schedules.LearningRateSchedule)


def check_rate(owner: str, value):
    """A learning rate: a schedule (any callable) as is, a number checked to be >= 0."""
    if callable(value):
        return value
    if isinstance(value, xp.ndarray) and value.ndim == 0 or isinstance(value, xp.floating):
        value = float(value)
    return check_number(owner, "learning_rate", value)


def opt_positive(owner: str, name: str, value):
    """None, or ``value`` checked to be a number > 0."""
    if value is None:
        return None
    return check_number(owner, name, value, low_open=True)
