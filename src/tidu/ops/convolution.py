"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d, on strided views and BLAS products."""

from __future__ import annotations

__all__: list = []

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
