"""Pooling layers: Keras's MaxPooling/AveragePooling/Global*Pooling; PyTorch's
MaxPool2d, AvgPool2d and AdaptiveAvgPool2d."""

from __future__ import annotations

__all__: list = []
