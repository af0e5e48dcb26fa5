"""The safetensors format, read by tidu's own checks: nothing is allocated before the header
has been validated against the file's real size.

Layout: an 8-byte little-endian header length ``N``; ``N`` bytes of UTF-8 JSON mapping each
entry name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (plus an optional
``"__metadata__"`` of strings); then the byte buffer, which the entries cover exactly, in order,
without gaps or overlaps. Numbers are little-endian.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit
DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
    "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8",
    "C64": "<c8",
}
NO_NUMPY = ("BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "E8M0", "F4", "F6_E2M3", "F6_E3M2")
_FIELDS = {"dtype", "shape", "data_offsets"}


class Problem(ValueError):
    """A problem in a file's contents (the caller adds the file's name)."""


@dataclass(frozen=True)
class Entry:
    """One tensor of a safetensors file: where its bytes are, and what they hold."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


def looks_like(head: bytes) -> bool:
    """Whether the first bytes are those of a safetensors file (a length, then ``{``)."""
    return len(head) >= 9 and head[8:9] == b"{"


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Problem(f"the header names {k!r} twice")
        seen[k] = v
    return seen


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(name: str, spec, buffer: int) -> Entry:
    where = f"entry {name!r}"
    if not isinstance(spec, dict):
        raise Problem(f"{where} is a {type(spec).__name__}, expected an object with "
                      "dtype, shape and data_offsets")
    if set(spec) != _FIELDS:
        missing, extra = sorted(_FIELDS - set(spec)), sorted(set(spec) - _FIELDS)
        raise Problem(f"{where} must have exactly the fields dtype, shape, data_offsets"
                      + (f"; missing {missing}" if missing else "")
                      + (f"; unknown {extra}" if extra else ""))
    code = spec["dtype"]
    if code in NO_NUMPY:
        raise Problem(f"{where} has dtype {code}, which NumPy (and so tidu) cannot represent")
    if not isinstance(code, str) or code not in DTYPES:
        raise Problem(f"{where} has unknown dtype {code!r}; safetensors dtypes tidu reads are "
                      f"{', '.join(DTYPES)}")
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(_int(d) for d in shape):
        raise Problem(f"{where} has shape {shape!r}, expected a list of non-negative integers")
    offsets = spec["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_int, offsets))
            or offsets[0] > offsets[1]):
        raise Problem(f"{where} has data_offsets {offsets!r}, expected [begin, end] with "
                      "0 <= begin <= end")
    begin, end = offsets
    if end > buffer:
        raise Problem(f"{where} claims bytes {begin}..{end} but the file has {buffer} bytes "
                      "after its header (truncated or corrupt)")
    dtype = np.dtype(DTYPES[code])
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != end - begin:
        raise Problem(f"{where} has shape {tuple(shape)} of {code}, which is {nbytes} bytes, "
                      f"but its byte range {begin}..{end} holds {end - begin}")
    return Entry(name, dtype, tuple(shape), begin, end)


def read_header(f: BinaryIO, size: int) -> tuple[dict[str, Entry], dict[str, str], int]:
    """Validate a safetensors file's whole header against its real ``size`` in bytes.

    Returns:
        (entries by name, metadata, offset of the byte buffer in the file).

    Raises:
        Problem: anything wrong, before anything else is read or allocated.
    """
    f.seek(0)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > MAX_HEADER_BYTES:
        raise Problem(f"the header length field says {n:,} bytes, over the limit of "
                      f"{MAX_HEADER_BYTES:,} (corrupt or hostile file)")
    if n > size - 8:
        raise Problem(f"truncated: the header length field says {n:,} bytes but only "
                      f"{size - 8:,} bytes follow it")
    raw = f.read(n)
    if len(raw) != n:
        raise Problem(f"truncated: could read only {len(raw)} of the header's {n} bytes")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as e:
        raise Problem(f"the header is not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise Problem(f"the header is not valid JSON ({e.msg} at byte {e.pos})") from None
    if not isinstance(header, dict):
        raise Problem(f"the header is a JSON {type(header).__name__}, expected an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise Problem("__metadata__ must map strings to strings")
    buffer = size - 8 - n
    entries = {name: _entry(name, spec, buffer) for name, spec in header.items()}
    position, previous = 0, None
    for e in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if e.begin < position:
            raise Problem(f"entries {previous.name!r} (bytes {previous.begin}..{previous.end}) "
                          f"and {e.name!r} (bytes {e.begin}..{e.end}) overlap")
        if e.begin > position:
            raise Problem(f"bytes {position}..{e.begin} of the buffer belong to no entry "
                          f"(before {e.name!r}); the entries must cover it without gaps")
        position, previous = e.end, e
    if position != buffer:
        raise Problem(f"the entries cover {position} bytes but {buffer} follow the header "
                      "(trailing data)")
    return entries, metadata, 8 + n


def read_entry(f: BinaryIO, entry: Entry, start: int) -> np.ndarray:
    """Read one validated entry into a new array (allocating exactly its size)."""
    out = np.empty(entry.shape, entry.dtype.newbyteorder("="))
    flat = out.reshape(-1).view(np.uint8)
    f.seek(start + entry.begin)
    got = f.readinto(flat) if flat.size else 0
    if got != flat.size:
        raise Problem(f"entry {entry.name!r}: read {got} of its {flat.size} bytes (the file "
                      "changed while it was read?)")
    if entry.dtype.byteorder == "<" and np.little_endian is False:
        out = out.byteswap()
    if entry.dtype.kind == "b" and flat.size and flat.max() > 1:
        raise Problem(f"entry {entry.name!r} is BOOL but holds bytes other than 0 and 1")
    return out
