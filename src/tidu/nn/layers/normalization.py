"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization;
PyTorch's BatchNorm1d/2d, LayerNorm and GroupNorm."""

from __future__ import annotations

__all__: list = []
