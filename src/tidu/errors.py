"""Errors in the user's terms: what was expected, what arrived, and a hint."""

from __future__ import annotations


class TiduError(Exception):
    """Base class of tidu's own errors."""


class ShapeError(TiduError, ValueError):
    """Shapes that do not fit the operation (names the op and both shapes)."""


class GradientError(TiduError, RuntimeError):
    """A gradient that cannot be computed: freed graph, integer tensor, non-scalar output."""


class DeviceError(TiduError, RuntimeError):
    """Operands on different devices, or a device that is not available (names each one)."""
