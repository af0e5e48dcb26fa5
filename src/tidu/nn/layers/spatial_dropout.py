"""Spatial dropout (Keras's SpatialDropout1D/2D/3D): drop whole feature maps, not units.

Neighbouring pixels of one feature map are strongly correlated, so dropping single units
barely regularises a convolutional network; these layers drop entire channels instead (one
draw per sample and channel, broadcast over the steps or pixels), with the same inverted
scaling 1 / (1 - rate) and the same identity in evaluation as :class:`Dropout`.
"""

from __future__ import annotations

from ...errors import ShapeError
from .._utils import normalize_shape
from .dropout import Dropout, DropoutMask

__all__ = ["SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]

_FORMATS = ("channels_last", "channels_first")


class _SpatialDropout(Dropout):
    """Dropout of whole channels of a (batch, spatial..., channels) input (or channels
    first); subclasses set ``RANK``, the number of spatial axes."""

    RANK = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 name: str | None = None):
        super().__init__(rate, seed=seed, name=name)
        fmt = "channels_last" if data_format is None else data_format
        if fmt not in _FORMATS:
            raise ValueError(f"{self.name}: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = fmt

    def _check(self, shape) -> None:
        want = self.RANK + 2
        if len(shape) != want:
            layout = ("(batch, " + ", ".join(["spatial"] * self.RANK) + ", channels)"
                      if self.data_format == "channels_last" else
                      "(batch, channels, " + ", ".join(["spatial"] * self.RANK) + ")")
            raise ShapeError(f"{self.name}: expected a {want}-D input {layout}, got an input "
                             f"of shape {tuple(shape)}")

    def forward(self, x):
        self._check(x.shape)
        if not self.training or self.rate == 0.0:
            return x
        spatial = slice(0, 1)
        if self.data_format == "channels_last":
            index = (slice(None), *[spatial] * self.RANK, slice(None))
        else:
            index = (slice(None), slice(None), *[spatial] * self.RANK)
        # one draw per (sample, channel), broadcast over the spatial axes
        return x * DropoutMask.apply(x[index], self.rate, self._rng)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check(shape)
        return shape

    def extra_repr(self) -> str:
        return f"rate={self.rate}, data_format={self.data_format!r}"


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of a (batch, steps, channels) input with probability ``rate``
    in training (Keras's SpatialDropout1D); identity in evaluation.

    >>> import tidu
    >>> y = tidu.nn.SpatialDropout1D(0.5, seed=0)(tidu.ones(2, 3, 4))
    >>> bool((y.numpy().min(axis=1) == y.numpy().max(axis=1)).all())  # same along steps
    True
    """

    RANK = 1

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None):
        super().__init__(rate, data_format="channels_last", seed=seed, name=name)


class SpatialDropout2D(_SpatialDropout):
    """Drop whole feature maps of an image batch with probability ``rate`` in training
    (Keras's SpatialDropout2D); identity in evaluation. ``data_format``: 'channels_last'
    (N, H, W, C), the default, or 'channels_first' (N, C, H, W).

    >>> import tidu
    >>> y = tidu.nn.SpatialDropout2D(0.5, seed=0)(tidu.ones(2, 3, 3, 4)).numpy()
    >>> sorted(set(y.ravel().tolist()))
    [0.0, 2.0]
    """

    RANK = 2


class SpatialDropout3D(_SpatialDropout):
    """Drop whole channels of a volume batch, (N, D, H, W, C) or channels first, with
    probability ``rate`` in training (Keras's SpatialDropout3D); identity in evaluation."""

    RANK = 3
