"""Switches read from the environment (``TIDU_ACCEL``, ``TIDU_RECYCLE``): one spelling of
"off" for all of them."""

from __future__ import annotations

import os

OFF = ("0", "false", "no", "off")
"""The values (any case, spaces stripped) that turn a switch off."""


def switch(name: str, default: bool = True) -> bool:
    """Whether the environment variable ``name`` leaves a switch on (unset: ``default``)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in OFF
