"""Helpers of Module: automatic names, the class registry, config values, shapes."""

from __future__ import annotations

import re
from typing import Any

_name_counts: dict[str, int] = {}
_classes: dict[str, type] = {}


def snake_case(name: str) -> str:
    """'Dense' -> 'dense', 'LeakyReLU' -> 'leaky_re_lu' (Keras's rule)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``... (one counter per process)."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def get_class(class_name: str) -> type:
    """The Module subclass called ``class_name`` (every subclass registers itself)."""
    try:
        return _classes[class_name]
    except KeyError:
        raise ValueError(
            f"unknown layer class '{class_name}': define (import) the class before loading a "
            "config that uses it"
        ) from None


def serialize(value: Any) -> Any:
    """A config value in plain form: objects with ``get_config`` become
    ``{'class_name': ..., 'config': ...}``, tidu activations become their names."""
    from . import activations

    if isinstance(value, (list, tuple)):
        return type(value)(serialize(v) for v in value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    if callable(value):
        name = activations.serialize(value)
        if name is not None:
            return name
    return value


def normalize_shape(shape, what: str = "input_shape") -> tuple:
    """``shape`` as a tuple of ints and Nones (None for an unknown size, e.g. the batch)."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        out = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a tuple of ints (None for unknown sizes), got "
                        f"{shape!r}") from None
    return out
