"""NumPy's summation, compiled (numba): the same order of additions, hence the same bits.

NumPy sums a contiguous run of values pairwise: runs under 8 in order, runs up to 128 in
eight interleaved partial sums, longer runs split in two (at a multiple of 8) and summed
recursively; the result starts from the identity, +0.0. Along a non-contiguous axis (the
rows of a C array, ``a.sum(axis=0)``) it adds row after row. The kernels of
:mod:`tidu.accel.crossentropy` and :mod:`tidu.accel.affine` sum inside their loops this way,
so that a fused loop gives the bits of the NumPy code it replaces.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def _block(a, lo, n):
    """NumPy's sum of a run of at most 128 values: in order under 8, else 8 partial sums."""
    if n < 8:
        res = a.dtype.type(0)
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i, m = lo + 8, lo + n - n % 8
    while i < m:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@_jit
def pairwise(a, lo, n):
    """The sum of ``a[lo:lo + n]`` (``a`` 1-D and contiguous) in NumPy's pairwise order.

    NumPy recurses; this walks the same tree with a stack of its own (numba's cache cannot
    reload a recursive function compiled for two dtypes)."""
    if n <= 128:
        return _block(a, lo, n)
    los, ns = np.empty(64, np.int64), np.empty(64, np.int64)
    left, right_done = np.empty(64, a.dtype), np.zeros(64, np.bool_)
    sp = 0
    los[0], ns[0] = lo, n
    while True:
        m = ns[sp]
        if m > 128:  # split: the left half first
            h = m // 2
            h -= h % 8
            sp += 1
            los[sp], ns[sp], right_done[sp] = los[sp - 1], h, False
            continue
        val = _block(a, los[sp], m)
        while True:  # hand the value up until a right half is still to do
            sp -= 1
            if sp < 0:
                return val
            if right_done[sp]:
                val = left[sp] + val
                continue
            left[sp], right_done[sp] = val, True
            h = ns[sp] // 2
            h -= h % 8
            sp += 1
            los[sp], ns[sp], right_done[sp] = los[sp - 1] + h, ns[sp - 1] - h, False
            break


@_jit
def numpy_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` as NumPy gives it: +0.0 plus the pairwise sum."""
    return a.dtype.type(0) + pairwise(a, lo, n)


@_jit
def row_sums(a, out):
    """``out[i] = a[i].sum()`` for the rows of a 2-D C-contiguous ``a`` (``out`` 1-D)."""
    f = a.reshape(-1)
    c = a.shape[1]
    for i in range(a.shape[0]):
        out[i] = numpy_sum(f, i * c, c)
