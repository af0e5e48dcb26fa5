"""The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.

An IDX file is a big-endian header (a magic number: two zero bytes, a type code, the number of
dimensions; then one 32-bit size per dimension) followed by the array in C order. MNIST's
images have magic ``0x00000803`` (unsigned bytes, 3 dimensions) and its labels ``0x00000801``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._download import FileSpec, locate

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

# IDX type code -> NumPy dtype (multi-byte types are big-endian on disk).
_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_exact(f, n: int) -> bytes:
    parts, got = [], 0
    while got < n and (chunk := f.read(n - got)):
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _readinto_exact(f, buf: memoryview) -> int:
    got = 0
    while got < len(buf) and (n := f.readinto(buf[got:])):
        got += n
    return got


def read_idx(path: str | os.PathLike, expected_magic: int | None = None,
             expected_shape: Sequence[int] | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into a writable NumPy array.

    Args:
        path: the file; gzip is detected from its first two bytes.
        expected_magic: the magic number the header must hold (e.g. ``0x803``), or None.
        expected_shape: the dimensions the header must hold, or None.

    Returns:
        The array, in native byte order, with the header's shape.

    Raises:
        ValueError: naming the file and what is wrong: not an IDX file, wrong magic number,
            unexpected dimensions, a payload shorter or longer than the header says, or a
            corrupt gzip stream.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if gzipped else open)(path, "rb") as f:
            return _parse(f, path, expected_magic, expected_shape)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"{path}: corrupt or truncated gzip stream ({e})") from e


def _parse(f, path: Path, expected_magic, expected_shape) -> np.ndarray:
    head = _read_exact(f, 4)
    if len(head) < 4:
        raise ValueError(f"{path}: {len(head)} bytes, too short for an IDX header (4 or more)")
    magic = int.from_bytes(head, "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: IDX magic number 0x{magic:08x}, expected "
                         f"0x{expected_magic:08x} (wrong file or not an IDX file)")
    if head[:2] != b"\0\0" or head[2] not in _TYPES:
        raise ValueError(f"{path}: magic number 0x{magic:08x} is not an IDX header (expected "
                         "two zero bytes, a type code in 0x08..0x0e and the number of dims)")
    ndim = head[3]
    raw_dims = _read_exact(f, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(f"{path}: header truncated: {ndim} dims need {4 * ndim} bytes after "
                         f"the magic number, found {len(raw_dims)}")
    dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    if expected_shape is not None and dims != tuple(expected_shape):
        raise ValueError(f"{path}: header gives shape {dims}, expected {tuple(expected_shape)}")
    dtype = _TYPES[head[2]]
    out = np.empty(dims, dtype=dtype)
    got = _readinto_exact(f, memoryview(out.reshape(-1).view(np.uint8)))
    if got < out.nbytes:
        raise ValueError(f"{path}: payload truncated: header {dims} of {dtype.name} needs "
                         f"{out.nbytes} bytes, found {got}")
    if f.read(1):
        raise ValueError(f"{path}: payload longer than the {out.nbytes} bytes its header "
                         f"{dims} says (trailing data)")
    return out if dtype.isnative else out.astype(dtype.newbyteorder("="))


def load_mnist_format(dataset: str, files: Sequence[FileSpec],
                      path: str | os.PathLike | None, mirrors: Sequence[str]):
    """Load an MNIST-format data set (the four files, in order train images, train labels,
    test images, test labels) as ``((x_train, y_train), (x_test, y_test))``."""
    found = locate(dataset, files, path, mirrors)
    arrays = []
    for (images, labels), n in zip((files[0:2], files[2:4]), (60000, 10000)):
        x = read_idx(found[images.name], IMAGES_MAGIC, (n, 28, 28))
        y = read_idx(found[labels.name], LABELS_MAGIC, (n,))
        if y.max(initial=0) > 9:
            raise ValueError(f"{found[labels.name]}: labels must be 0..9, found {y.max()}")
        arrays.append((x, y))
    return tuple(arrays)
