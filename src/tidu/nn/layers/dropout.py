"""Dropout: randomly silence units during training (inverted dropout)."""

from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd import Function
from ...random import get_generator, get_state, set_state
from .._utils import normalize_shape
from ..module import Module


class DropoutMask(Function):
    """A fresh inverted-dropout mask shaped like ``x``: 0 with probability ``rate``, else
    1 / (1 - rate). An operation (not an array made outside the graph) so that a compiled
    step draws a new mask on every call; ``rng=None`` reads tidu's global generator then."""

    def forward(self, x, rate, rng):
        gen = rng if rng is not None else get_generator()
        keep = gen.random(x.shape) >= rate
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        # drawn on the host from tidu's one generator, so a seed gives the same masks on
        # every device; then placed beside x. The scale is rounded to the dtype once and
        # multiplied by 1 or 0: the bits of (keep * scale).astype(dtype), without a float64
        # array in between
        mask = keep.astype(dtype)
        mask *= np.asarray(1.0 / (1.0 - rate)).astype(dtype)
        return backend.asarray_like(mask, x)

    def backward(self, g):
        return None, None, None

    @staticmethod
    def vjp(g, x, rate, rng):
        return None, None, None


class Dropout(Module):
    """Zero each input unit with probability ``rate`` in training; identity in evaluation.

    Inverted dropout: the surviving units are scaled by 1 / (1 - rate) during training, so
    the expected value of every unit is the same in training and in evaluation and nothing
    has to be rescaled at test time (the train/test scale difference of Text C is corrected
    here, during training).

    Masks come from tidu's global generator (so ``tidu.manual_seed`` reproduces them), or,
    when ``seed`` is given, from the layer's own generator created at construction.

    Args:
        rate: probability of dropping a unit, 0 <= rate < 1.
        seed: optional seed of the layer's own generator.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> drop = tidu.nn.Dropout(0.5, seed=0)
    >>> sorted(set(drop(tidu.ones(1000)).tolist()))
    [0.0, 2.0]
    >>> drop.eval()(tidu.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None):
        super().__init__(name=name)
        try:
            rate = float(rate)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: rate must be a number, got {rate!r}") from None
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{self.name}: rate must satisfy 0 <= rate < 1, got {rate}")
        self.rate = rate
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def forward(self, x):
        if not self.training or self.rate == 0.0:
            return x
        return x * DropoutMask.apply(x, self.rate, self._rng)

    def get_rng_state(self) -> dict | None:
        """The state of the layer's own generator (plain data), None when it has none."""
        return None if self._rng is None else get_state(self._rng)

    def set_rng_state(self, state: dict | None) -> None:
        """Continue the layer's own generator from :meth:`get_rng_state`'s value."""
        if (state is None) != (self._rng is None):
            raise ValueError(f"{self.name}: set_rng_state got "
                             f"{'no state' if state is None else 'a generator state'}, but "
                             f"this layer {'has' if self._rng is not None else 'has no'} "
                             "generator of its own (seed given at construction)")
        if state is not None:
            set_state(state, self._rng)

    def compute_output_shape(self, input_shape) -> tuple:
        return normalize_shape(input_shape)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


def _register() -> None:
    from ...compile import shapes

    shapes.register(DropoutMask, shapes._first, impure=True)


_register()
