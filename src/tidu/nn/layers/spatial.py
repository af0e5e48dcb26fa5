"""Spatial reshaping layers: ZeroPadding2D, Cropping2D, UpSampling2D."""

from __future__ import annotations

__all__: list = []
