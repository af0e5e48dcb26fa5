"""Recycled memory for tidu's own large temporaries.

A fresh large NumPy array costs a page fault for every page the first time it is written:
the kernel maps the page and zeroes it. glibc hands large freed blocks back to the kernel, so
a training loop that builds the same large temporaries every step (a convolution's columns and
output, the pooling and rectifier gradients) pays those faults again on every step. On the
2-core Xeon virtual machine of ``bench/README.md`` a fault cost about 2.6 us, about 5,000 of
them a step took a fifth of the MNIST convnet's step, and taking them away (glibc told to keep
its memory) made the step 20% faster.

Here an array of at least :data:`MIN_BYTES` gets its memory from a pool of blocks by exact
size; a block goes back to the pool when the last array that uses it is gone, and the next
array of that size reuses it, with its pages already mapped. The pool holds at most
:data:`LIMIT_BYTES` of free blocks; beyond that a freed block goes back to the allocator.

An array handed out is an ordinary writable, C-contiguous ``ndarray``. Its memory belongs to a
small ctypes buffer (its ``base``) that every view of it keeps alive; the buffer returns the
block in its ``__del__``, which runs only once no view of the block is left. So a block is
never shared by two live arrays. Only tidu's kernels allocate here, never a user's arrays.

>>> from tidu.backend import recycle
>>> a = recycle.empty((512, 1024), "float32")       # 2 MiB: from the pool
>>> a.shape, a.dtype.name, a.flags.c_contiguous
((512, 1024), 'float32', True)
>>> address = a.ctypes.data
>>> del a                                           # its block goes back to the pool
>>> recycle.empty((1024, 512), "float32").ctypes.data == address   # and is used again
True
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

from .._env import switch

MIN_BYTES = 1 << 20 if switch("TIDU_RECYCLE") else 1 << 62
"""Arrays smaller than this come from NumPy directly (glibc reuses small blocks itself). The
environment variable ``TIDU_RECYCLE=0`` turns the pool off (every array from NumPy)."""

LIMIT_BYTES = 512 << 20
"""The most memory the pool keeps in free blocks (set it to 0 to keep none)."""

PER_SIZE = 16
"""The most free blocks kept of one size."""

_free: dict = {}  # size in bytes -> free blocks (uint8 arrays)
_kept = 0  # bytes in _free
_types: dict = {}  # size in bytes -> the ctypes buffer type of that size


def _give_back(block) -> None:
    """Return ``block`` to the pool, or let it go when the pool is full."""
    global _kept
    n = block.nbytes
    blocks = _free.setdefault(n, [])
    if len(blocks) < PER_SIZE and _kept + n <= LIMIT_BYTES:
        blocks.append(block)
        _kept += n


class _Buffer:
    """Mixed into each size's ctypes buffer type: gives its block back when it dies."""

    def __del__(self):
        try:
            _give_back(self.block)
        except Exception:  # noqa: BLE001 - interpreter shutdown: the module may be gone
            pass


def _buffer_type(n: int):
    t = _types.get(n)
    if t is None:
        t = _types[n] = type("RecycledBuffer", (_Buffer, ctypes.c_char * n), {})
    return t


def empty(shape: int | tuple, dtype: np.typing.DTypeLike) -> np.ndarray:
    """A new C-contiguous array of ``shape`` and ``dtype``, its values undefined (as
    ``np.empty``), on recycled memory when it is large."""
    global _kept
    dt = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = math.prod(shape) * dt.itemsize
    if n < MIN_BYTES:
        return np.empty(shape, dt)
    block = None
    blocks = _free.get(n)
    if blocks:
        try:
            block = blocks.pop()
        except IndexError:  # another thread took the last one
            pass
        else:
            _kept -= n
    if block is None:
        block = np.empty(n, np.uint8)
    buf = _buffer_type(n).from_buffer(block)
    buf.block = block
    return np.frombuffer(buf, dt).reshape(shape)


def zeros(shape: int | tuple, dtype: np.typing.DTypeLike) -> np.ndarray:
    """As :func:`empty`, filled with zeros."""
    a = empty(shape, dtype)
    a.fill(0)
    return a


def like(a, shape: tuple | None = None, dtype: np.typing.DTypeLike = None) -> np.ndarray:
    """:func:`empty` shaped and typed like the NumPy array ``a`` (or as given); an array of
    another library (CuPy) gets that library's own ``empty_like``."""
    if type(a) is not np.ndarray:
        return np.empty_like(a, shape=a.shape if shape is None else shape,
                             dtype=a.dtype if dtype is None else dtype, order="C")
    return empty(a.shape if shape is None else shape, a.dtype if dtype is None else dtype)


def held() -> int:
    """Bytes kept in free blocks now."""
    return _kept


def clear() -> None:
    """Let every free block go back to the allocator."""
    global _kept
    _free.clear()
    _kept = 0
