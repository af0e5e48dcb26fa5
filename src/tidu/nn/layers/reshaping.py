"""Layers that change only the shape: Flatten and Reshape (the batch axis is kept)."""

from __future__ import annotations

import math

from ... import ops
from ...errors import ShapeError
from .._utils import normalize_shape
from ..module import Module


def _size(dims) -> int | None:
    return None if any(d is None for d in dims) else math.prod(dims)


class Flatten(Module):
    """Merge all axes but the first (the batch axis) into one.

    Shape:
        - Input: (batch, d1, d2, ...).
        - Output: (batch, d1 * d2 * ...); a 1-D input (batch,) becomes (batch, 1).

    >>> import tidu
    >>> tidu.nn.Flatten()(tidu.zeros(2, 28, 28)).shape
    (2, 784)
    """

    def forward(self, x):
        if x.ndim == 0:
            raise ShapeError(f"{self.name}: needs an input with a batch axis, got a scalar")
        return ops.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        return (shape[0], _size(shape[1:]))


class Reshape(Module):
    """Give each sample the shape ``target_shape`` (the batch axis is kept).

    Args:
        target_shape: shape of one sample; one entry may be -1 (inferred).

    Shape:
        - Input: (batch, ...) with as many elements per sample as ``target_shape``.
        - Output: (batch, *target_shape).

    >>> import tidu
    >>> tidu.nn.Reshape((28, 28))(tidu.zeros(2, 784)).shape
    (2, 28, 28)
    """

    def __init__(self, target_shape, name: str | None = None):
        super().__init__(name=name)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: target_shape must be a tuple of ints, got "
                            f"{target_shape!r}") from None
        if sum(d == -1 for d in target) > 1 or any(d < -1 or d == 0 for d in target):
            raise ValueError(f"{self.name}: target_shape must have positive sizes and at most "
                             f"one -1, got {target}")
        self.target_shape = target

    def _resolve(self, per_sample: int | None, shape) -> tuple:
        known = math.prod(d for d in self.target_shape if d != -1)
        if per_sample is None:
            return tuple(None if d == -1 else d for d in self.target_shape)
        if -1 in self.target_shape:
            if per_sample % known == 0:
                return tuple(per_sample // known if d == -1 else d for d in self.target_shape)
        elif per_sample == known:
            return self.target_shape
        raise ShapeError(
            f"{self.name}: cannot reshape samples of shape {tuple(shape[1:])} ({per_sample} "
            f"elements) into target_shape {self.target_shape}"
        )

    def forward(self, x):
        if x.ndim == 0:
            raise ShapeError(f"{self.name}: needs an input with a batch axis, got a scalar")
        target = self._resolve(math.prod(x.shape[1:]), x.shape)
        return ops.reshape(x, (x.shape[0], *target))

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        return (shape[0], *self._resolve(_size(shape[1:]), shape))

    def extra_repr(self) -> str:
        return f"target_shape={self.target_shape}"
