"""Learning-rate schedules: pure functions of the optimizer's step count.

A schedule maps the number of updates already applied (an int starting at 0) to the learning
rate of the next update. Pass one as ``lr=`` / ``learning_rate=`` to any optimizer; the
optimizer calls it with its ``iterations`` at every ``step()``. Because a schedule depends on
nothing but the step, saving ``iterations`` is enough to resume it.

>>> from tidu.optim.schedules import StepDecay
>>> sched = StepDecay(0.1, step_size=2, gamma=0.5)
>>> [sched(t) for t in range(5)]
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import registry


class LearningRateSchedule:
    """Base class: a callable ``step -> learning rate`` with a ``get_config``.

    Subclasses write ``__call__(step)`` and ``get_config()``; ``from_config`` rebuilds them.
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _positive(name: str, owner: str, value, integer: bool = False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or not math.isfinite(value):
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{owner}: {name} must be {kind}, got {value!r}")
    return int(value) if integer else float(value)


def _learning_rate(owner: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or not math.isfinite(value):
        raise ValueError(f"{owner}: initial_learning_rate must be a finite number >= 0, "
                         f"got {value!r}")
    return float(value)


class StepDecay(LearningRateSchedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``, in steps).

    ``lr(step) = initial_learning_rate * gamma ** (step // step_size)``

    Args:
        initial_learning_rate: rate of the first ``step_size`` steps.
        step_size: steps between two decays (a positive integer).
        gamma: multiplicative factor (0.1 as in PyTorch).
    """

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float = 0.1):
        self.initial_learning_rate = _learning_rate("StepDecay", initial_learning_rate)
        self.step_size = _positive("step_size", "StepDecay", step_size, integer=True)
        self.gamma = _positive("gamma", "StepDecay", gamma)

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.gamma ** (int(step) // self.step_size)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(LearningRateSchedule):
    """Keras's ``ExponentialDecay``: a smooth (or staircase) exponential decay.

    ``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``, with the
    exponent floored when ``staircase`` is true.

    Args:
        initial_learning_rate: rate at step 0.
        decay_steps: steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: the factor per ``decay_steps`` steps.
        staircase: decay at discrete intervals (integer division).
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        self.initial_learning_rate = _learning_rate("ExponentialDecay", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", "ExponentialDecay", decay_steps)
        self.decay_rate = _positive("decay_rate", "ExponentialDecay", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class CosineDecay(LearningRateSchedule):
    """Keras's ``CosineDecay``: half a cosine from the initial rate down to ``alpha`` of it.

    Without warm-up::

        t = min(step, decay_steps)
        lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps))
                                            + alpha)

    With ``warmup_target`` set, the rate first rises linearly from ``initial_learning_rate``
    to ``warmup_target`` over ``warmup_steps`` steps, then decays as above from
    ``warmup_target`` (with ``step - warmup_steps``).

    Args:
        initial_learning_rate: rate at step 0.
        decay_steps: length of the decay; the rate stays at ``alpha * start`` afterwards.
        alpha: final rate as a fraction of the rate the decay starts from.
        warmup_target: rate reached at the end of the warm-up (None: no warm-up).
        warmup_steps: length of the warm-up.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        self.initial_learning_rate = _learning_rate("CosineDecay", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", "CosineDecay", decay_steps)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) \
                or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"CosineDecay: alpha must be in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        self.warmup_target = None
        if warmup_target is not None:
            self.warmup_target = _learning_rate("CosineDecay (warmup_target)", warmup_target)
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, float)) \
                or warmup_steps < 0 or (self.warmup_target is not None and warmup_steps == 0):
            raise ValueError("CosineDecay: warmup_steps must be >= 0, and > 0 when "
                             f"warmup_target is set, got {warmup_steps!r}")
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_SCHEDULES = {cls.__name__: cls for cls in (StepDecay, ExponentialDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{'class_name': ..., 'config': ...}`` of a schedule (plain data)."""
    return registry.serialize(schedule, "schedule")


def deserialize(config: dict) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s output.

    Raises:
        ValueError: an unknown ``class_name`` (the message lists the known ones).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("schedules.deserialize: expected a dict with 'class_name' and "
                         f"'config', got {config!r}")
    return registry.resolve("schedule", config)


registry.define_kind(
    "schedule", where="schedules.deserialize", base=LearningRateSchedule, classes=_SCHEDULES,
    expected="a schedule, its name or its config dict")


Schedule = Callable[[int], float]
"""Anything usable as a learning rate besides a number: a callable ``step -> float``."""
