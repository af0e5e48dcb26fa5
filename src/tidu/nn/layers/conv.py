"""Convolution layers: Keras's Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D and
SeparableConv2D; PyTorch's Conv1d/Conv2d and ConvTranspose2d."""

from __future__ import annotations

__all__: list = []
