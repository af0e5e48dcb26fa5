"""Resizing: interpolate / upsample (nearest, bilinear, align_corners)."""

from __future__ import annotations

__all__: list = []

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
