"""Padding and cropping: :func:`pad` (numpy.pad's widths, torch's modes, negative widths
crop), :func:`pad_last` (torch.nn.functional.pad's flat tuple, last axis first), and their
primitive ``Pad`` beside its transpose ``PadAdjoint``, each the other's vjp (so higher
derivatives come too).

One room for padding: ``Pad`` and ``pad`` came from :mod:`tidu.ops.shape`, ``PadAdjoint`` and
``pad_last`` from :mod:`tidu.ops.layout`; both modules re-export them.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..errors import ShapeError
from ._device import index_beside, zeros_beside
from ._layout_args import _ints

__all__ = ["pad", "pad_last"]


class Pad(Function):
    """Pad each axis by (before, after) widths, or crop it where a width is negative.

    Crops come first, so "reflect", "replicate" and "circular" copy from the cropped values,
    as torch.nn.functional.pad does (except that torch's "reflect" reads cropped-away values
    when a reflection is longer than what is left; tidu reflects again, as numpy.pad does
    for any width past the length). The gradient is the transpose: what a padded element
    copied flows back to its source (mirrored, edge and wrapped copies add up), and cropped
    elements get zero.
    """

    NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def forward(self, x, pad_width, value=0, mode="constant"):
        self.pad_width, self.mode = pad_width, mode
        return Pad.pad_array(x, pad_width, mode, value)

    def backward(self, g):
        return Pad.adjoint_array(g, self.pad_width, self.mode), None

    @staticmethod
    def vjp(g, x, pad_width, value=0, mode="constant"):
        return PadAdjoint.apply(g, pad_width=pad_width, mode=mode), None

    @staticmethod
    def pad_array(x, pad_width, mode="constant", value=0):
        """The NumPy computation: crop the negative widths, then pad the positive ones."""
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                     for (lo, hi), n in zip(pad_width, x.shape))
        grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pad_width)
        if mode == "constant":
            return xp.pad(x[crop], grow, mode="constant", constant_values=value)
        return xp.pad(x[crop], grow, mode=Pad.NUMPY_MODE[mode])

    @staticmethod
    def adjoint_array(g, pad_width, mode="constant"):
        """The transpose of ``pad_array`` applied to ``g`` (an array shaped like its output)."""
        if mode == "constant":  # padding and cropping swap roles
            return Pad.pad_array(g, tuple((-lo, -hi) for lo, hi in pad_width))
        for axis, (lo, hi) in enumerate(pad_width):
            if lo == hi == 0:
                continue
            n = g.shape[axis] - lo - hi  # the input's length on this axis
            src = Pad.pad_array(xp.arange(n), ((lo, hi),), mode)  # input index of each output
            out = zeros_beside(g, g.shape[:axis] + (n,) + g.shape[axis + 1:])
            xp.add.at(out, (slice(None),) * axis + (index_beside(src, g),), g)
            g = out
        return g


class PadAdjoint(Function):
    """The transpose of ``pad(x, pad_width, mode=mode)`` applied to ``g`` (shaped like the
    padded output): the gradient of padding, itself differentiable (its transpose is Pad)."""

    def forward(self, g, pad_width, mode="constant"):
        self.pad_width, self.mode = pad_width, mode
        return Pad.adjoint_array(g, pad_width, mode)

    def backward(self, gg):
        return Pad.pad_array(gg, self.pad_width, self.mode)

    @staticmethod
    def vjp(gg, g, pad_width, mode="constant"):
        return Pad.apply(gg, pad_width, mode=mode)


def pad(x, pad_width, value: float = 0.0, *, mode: str = "constant"):
    """Pad each axis, or crop it where a width is negative (as torch.nn.functional.pad).

    ``pad_width`` is numpy.pad's: one int, one (before, after) pair for every axis, or a pair
    per axis. ``mode`` is "constant" (filled with ``value``), "reflect" (mirrored without
    repeating the edge), "replicate" (the edge value; NumPy's "edge") or "circular" (wrapped
    around; NumPy's "wrap"). NumPy's names and ``np.pad``'s order (the mode as the third
    argument) work too. Crops happen before padding. For torch's flat pad tuple, last axis
    first (``F.pad(x, (1, 1, 2, 2))``), use :func:`tidu.pad_last`.

    >>> import tidu
    >>> tidu.pad(tidu.tensor([1.0, 2.0, 3.0, 4.0]), (2, -1), mode="reflect")
    tensor([3., 2., 1., 2., 3.])
    """
    if isinstance(value, str):  # np.pad(x, width, "edge")
        value, mode = 0.0, value
    m = {"edge": "replicate", "wrap": "circular"}.get(mode, mode)
    if m not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular' "
                         f"(or NumPy's 'edge', 'wrap'), got {mode!r}")
    if m != "constant" and value not in (0, None):
        raise ValueError(f"pad: mode {m!r} copies values from the tensor and takes no value, "
                         f"got value={value!r}")
    try:
        pw = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (x.ndim, 2))
    except (ValueError, TypeError):
        raise ShapeError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}; give one "
            "int, one (before, after) pair for every axis, or a pair per axis"
        ) from None
    rows = tuple(map(tuple, pw.tolist()))
    for axis, ((lo, hi), n) in enumerate(zip(rows, x.shape)):
        if n is None:  # a symbolic axis, known only when the compiled function runs
            continue
        kept = n - max(-lo, 0) - max(-hi, 0)
        if kept < 0:
            raise ShapeError(f"pad: widths {(lo, hi)} crop {n - kept} elements from axis {axis} "
                             f"of length {n} (tensor of shape {x.shape})")
        if kept == 0 and m != "constant" and (lo > 0 or hi > 0):
            raise ShapeError(f"pad: mode {m!r} has nothing to copy on axis {axis}: widths "
                             f"{(lo, hi)} leave no elements of a tensor of shape {x.shape}")
    if m == "constant":
        return Pad.apply(x, rows, value=0.0 if value is None else value)
    return Pad.apply(x, rows, mode=m)


def pad_last(x, pad_width, mode: str = "constant", value: float = 0.0):
    """torch.nn.functional.pad's spelling of :func:`tidu.pad`: a flat tuple of (before, after)
    pairs for the last axes, the last axis first (``(1, 1, 2, 2)`` pads the last axis by 1 and
    the one before by 2). Negative widths crop; modes as in :func:`tidu.pad`.

    >>> import tidu
    >>> tidu.pad_last(tidu.ones(1, 2), (1, 0, 0, 1)).shape
    (2, 3)
    """
    p = _ints(pad_width, "pad_width", "pad_last")
    if len(p) % 2 or len(p) > 2 * x.ndim:
        raise ShapeError(f"pad_last: pad_width {pad_width!r} needs an even number of widths, "
                         f"at most two per axis of a tensor of shape {x.shape}")
    pairs = [(0, 0)] * (x.ndim - len(p) // 2) + [p[i:i + 2] for i in range(len(p) - 2, -1, -2)]
    return pad(x, xp.asarray(pairs, dtype=int).reshape(x.ndim, 2), value, mode=mode)
