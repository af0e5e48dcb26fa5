"""tidu's older ``.npz`` weight files, read without pickle and without trusting the archive.

Each member's declared size is checked against the archive's real size (a stored member cannot
be larger than the archive; a deflated one cannot be more than ``MAX_DEFLATE_RATIO`` times its
compressed bytes), and its ``.npy`` header is parsed by ``numpy.lib.format`` with a bounded
header size and checked against that declared size, before any array is allocated.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy

from .errors import NEVER
from .safetensors_file import Problem

MAX_DEFLATE_RATIO = 1032  # deflate cannot compress better than about 1032:1
MAX_NPY_HEADER = 10_000  # numpy's own default bound
_CHUNK = 1 << 20
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


@dataclass(frozen=True)
class Member:
    """One array of an npz archive, its header validated."""

    name: str
    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran: bool


def looks_like(head: bytes) -> bool:
    """Whether the first bytes are those of a zip archive."""
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _check_info(info: zipfile.ZipInfo, size: int) -> None:
    where = f"member {info.filename!r}"
    if info.flag_bits & 0x1:
        raise Problem(f"{where} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Problem(f"{where} uses compression method {info.compress_type}; tidu reads "
                      "stored or deflated members only")
    if info.header_offset + info.compress_size > size:
        raise Problem(f"{where} claims {info.compress_size:,} compressed bytes at offset "
                      f"{info.header_offset:,} but the archive has {size:,} bytes (truncated?)")
    limit = (info.compress_size if info.compress_type == zipfile.ZIP_STORED
             else info.compress_size * MAX_DEFLATE_RATIO + 1024)
    if info.file_size > limit:
        raise Problem(f"{where} declares {info.file_size:,} bytes uncompressed from "
                      f"{info.compress_size:,} compressed bytes, more than its compression can "
                      f"produce (at most {limit:,}): a corrupt or hostile archive")


def list_members(zf: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    """Array name -> ZipInfo, after the archive-level checks."""
    members = {}
    for info in zf.infolist():
        name = info.filename
        if name.endswith((".pkl", ".pickle")) or name.endswith("data.pkl"):
            raise Problem(f"the archive holds a pickle ({name!r}; a PyTorch checkpoint?); "
                          f"{NEVER}")
        if not name.endswith(".npy"):
            raise Problem(f"member {name!r} is not an .npy array (an .npz of weights holds "
                          "only .npy members)")
        key = name[:-4]
        if key in members:
            raise Problem(f"the archive holds {name!r} twice")
        _check_info(info, size)
        members[key] = info
    return members


def read_header(zf: zipfile.ZipFile, key: str, info: zipfile.ZipInfo) -> Member:
    """Parse one member's ``.npy`` header (reading at most ``MAX_NPY_HEADER`` bytes of it)."""
    where = f"array {key!r}"
    with zf.open(info) as fp:
        try:
            version = npy.read_magic(fp)
        except ValueError as e:
            raise Problem(f"{where} is not an .npy array ({e})") from None
        try:
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(fp, MAX_NPY_HEADER)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(fp, MAX_NPY_HEADER)
            else:
                raise Problem(f"{where} has .npy format version {version}; tidu reads 1.0 "
                              "and 2.0")
        except ValueError as e:  # includes a header over MAX_NPY_HEADER bytes
            raise Problem(f"{where} has an invalid .npy header: {e}") from None
        header = fp.tell()
    if dtype.hasobject:
        raise Problem(f"{where} holds Python objects (dtype object), which .npy stores as a "
                      f"pickle; {NEVER}")
    if dtype.fields is not None or dtype.kind == "V":
        raise Problem(f"{where} has the structured dtype {dtype}; weights are plain arrays")
    nbytes = math.prod(shape) * dtype.itemsize
    if header + nbytes != info.file_size:
        raise Problem(f"{where} has an .npy header describing a {shape} {dtype} array of "
                      f"{nbytes:,} bytes, but its member holds {info.file_size - header:,} "
                      "bytes after the header (corrupt or hostile)")
    return Member(key, info, dtype, tuple(shape), bool(fortran))


def read_member(zf: zipfile.ZipFile, m: Member) -> np.ndarray:
    """Decompress one validated member into a new array of exactly its size."""
    shape = m.shape[::-1] if m.fortran else m.shape
    out = np.empty(shape, m.dtype)
    flat = out.reshape(-1).view(np.uint8)
    with zf.open(m.info) as fp:
        fp.read(m.info.file_size - flat.size)  # the header, already parsed
        pos = 0
        while pos < flat.size:
            chunk = fp.read(min(_CHUNK, flat.size - pos))
            if not chunk:
                raise Problem(f"array {m.name!r}: truncated after {pos} of {flat.size} bytes")
            flat[pos:pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
            pos += len(chunk)
        if fp.read(1):  # also makes zipfile check the CRC
            raise Problem(f"array {m.name!r} has data past its declared size")
    if m.dtype.kind == "b" and flat.size and flat.max() > 1:
        raise Problem(f"array {m.name!r} is bool but holds bytes other than 0 and 1")
    if not m.dtype.isnative:
        out = out.astype(m.dtype.newbyteorder("="))
    return out.T if m.fortran else out
