"""Fused normalization: batch norm, layer norm and group norm, each with its own backward."""

from __future__ import annotations

__all__: list = []

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
