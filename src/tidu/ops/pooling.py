"""Pooling: max and average pooling 1-D and 2-D, adaptive and global pooling."""

from __future__ import annotations

__all__: list = []

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
