"""Resampling along one axis by gathers: each output reads one input ('nearest') or two
neighbours with weights ('linear'), so the forward is ``take`` (and a weighted sum) and the
adjoint adds each output's gradient back to the inputs it read, one member of each run of
equal indices at a time (the indices never decrease along the output). No dense matrix, no
transposes: a 2x nearest upsampling costs what ``repeat`` costs."""

from __future__ import annotations

from dataclasses import dataclass

from ..backend import asarray_like, xp


@dataclass(frozen=True, eq=False)
class Taps:
    """How one axis is resampled: output i reads ``lo[i]`` with weight ``w_lo[i]`` and
    ``hi[i]`` with ``w_hi[i]`` (``hi`` is None for nearest, weight 1)."""

    axis: int
    n_in: int
    lo: object
    hi: object = None
    w_lo: object = None
    w_hi: object = None

    def _weight(self, w, like):
        shape = [1] * like.ndim
        shape[self.axis] = -1
        return asarray_like(w.astype(like.dtype).reshape(shape), like)

    def apply(self, x):
        a = xp.take(x, asarray_like(self.lo, x), axis=self.axis)
        if self.hi is None:
            return a
        a *= self._weight(self.w_lo, x)
        b = xp.take(x, asarray_like(self.hi, x), axis=self.axis)
        b *= self._weight(self.w_hi, x)
        a += b
        return a

    def adjoint(self, g):
        if self.hi is None:
            return _gather_adjoint(g, self.lo, self.n_in, self.axis)
        out = _gather_adjoint(g * self._weight(self.w_lo, g), self.lo, self.n_in, self.axis)
        out += _gather_adjoint(g * self._weight(self.w_hi, g), self.hi, self.n_in, self.axis)
        return out


def _as_slice(idx):
    """``idx`` (ascending) as an equivalent slice when it is an arithmetic progression (basic
    indexing: views, no fancy-index loops), else ``idx`` itself."""
    if len(idx) == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    step = idx[1] - idx[0]
    if step > 0 and (xp.diff(idx) == step).all():
        return slice(int(idx[0]), int(idx[-1]) + 1, int(step))
    return idx


def _on(index, like):
    """A slice as it is; a (host) index array on the device of ``like``."""
    return index if isinstance(index, slice) else asarray_like(index, like)


def _gather_adjoint(g, idx, n_in: int, axis: int):
    """Zeros of length ``n_in`` along ``axis`` plus ``g``'s slices added at ``idx``
    (non-decreasing): the r-th member of every run of equal indices at once, for r up to the
    longest run (2 for a 2x upsampling), each read and written through slices where the
    positions are evenly spaced (``add.reduceat`` along a middle axis is far slower)."""
    starts = xp.flatnonzero(xp.concatenate(([True], idx[1:] != idx[:-1])))
    lens = xp.diff(xp.append(starts, len(idx)))
    targets = idx[starts]
    shape = list(g.shape)
    shape[axis] = n_in
    out = None
    read = [slice(None)] * g.ndim
    write = [slice(None)] * g.ndim
    for r in range(int(lens.max())):
        sel = lens > r
        read[axis] = _on(_as_slice(starts[sel] + r), g)
        part = g[tuple(read)]
        write[axis] = _on(_as_slice(targets[sel]), g)
        if out is None and isinstance(write[axis], slice) and \
                write[axis] == slice(0, n_in, 1):
            out = part.copy()  # the first pass covers every input
            continue
        if out is None:
            out = xp.zeros_like(g, shape=shape)
        out[tuple(write)] += part  # distinct positions: each added once
    return out


def nearest(axis: int, n_in: int, n_out: int, scale: float) -> Taps:
    """PyTorch's 'nearest': output i reads floor(i * scale)."""
    src = xp.minimum(xp.floor(xp.arange(n_out) * scale).astype(xp.int64), n_in - 1)
    return Taps(axis, n_in, src)


def linear(axis: int, n_in: int, n_out: int, scale: float, align_corners: bool) -> Taps:
    """PyTorch's linear taps: source (i + 0.5) * scale - 0.5 clamped at 0, or
    i * (n_in - 1) / (n_out - 1) with align_corners; the two neighbours and their weights."""
    dst = xp.arange(n_out, dtype=xp.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = xp.maximum((dst + 0.5) * scale - 0.5, 0.0)
    lo = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    hi = xp.where(lo < n_in - 1, lo + 1, lo)
    w_hi = src - lo
    return Taps(axis, n_in, lo, hi, 1.0 - w_hi, w_hi)


def resample(x, taps: tuple):
    """``x`` resampled along each axis of ``taps`` in turn."""
    for t in taps:
        x = t.apply(x)
    return x


def resample_adjoint(g, taps: tuple):
    """The transpose of :func:`resample`: the axes undone in reverse order."""
    for t in reversed(taps):
        g = t.adjoint(g)
    return g
