"""save_tensors / load_tensors: named arrays on disk, validated in full before any data is read."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Mapping

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import npz_file, safetensors_file
from .atomic import atomic_write
from .errors import FileFormatError, not_weights
from .safetensors_file import Problem

Expected = Mapping[str, tuple[tuple[int, ...], object]]


def _require_safetensors():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("writing .safetensors files needs the safetensors library: "
                          "pip install tidu[safetensors] (or save to a .npz path)") from e
    return safetensors.numpy


def save_tensors(tensors: Mapping[str, np.ndarray], path: str | os.PathLike,
                 metadata: Mapping[str, str] | None = None) -> None:
    """Write named arrays as a safetensors file, atomically (see ``atomic_write``).

    Args:
        tensors: name -> array (bool, integer, float16/32/64 or complex64).
        path: the target file.
        metadata: strings stored in the header's ``__metadata__``.

    Raises:
        ImportError: the ``safetensors`` library is not installed.
        TypeError: a name or metadata value is not a string, or an array has a dtype the
            format cannot hold.
    """
    st = _require_safetensors()
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_tensors: names must be strings, got {name!r}")
        a = np.asarray(backend.to_host(value.data if isinstance(value, Tensor) else value))
        a = a if a.flags.c_contiguous else a.copy(order="C")  # (0-d stays 0-d)
        code = next((c for c, d in safetensors_file.DTYPES.items()
                     if np.dtype(d) == a.dtype.newbyteorder("<")), None)
        if code is None:
            raise TypeError(f"save_tensors: array {name!r} has dtype {a.dtype}, which "
                            "safetensors cannot hold (bool, integers, float16/32/64, complex64)")
        arrays[name] = a.astype(a.dtype.newbyteorder("<"), copy=False)
    if metadata is not None:
        bad = {k: v for k, v in metadata.items() if not (isinstance(k, str)
                                                         and isinstance(v, str))}
        if bad:
            raise TypeError(f"save_tensors: metadata must map strings to strings, got {bad!r}")
        metadata = dict(metadata)
    atomic_write(path, st.save(arrays, metadata=metadata))


def _check_expected(path, found: Mapping[str, tuple], expected: Expected | None,
                    keys: Iterable[str] | None) -> list[str]:
    """The names to read, after checking them against ``expected`` (name -> shape, dtype)."""
    if keys is not None:
        needed = list(keys)
    elif expected is not None:
        needed = list(expected)
    else:
        needed = list(found)
    missing = [k for k in needed if k not in found]
    unexpected = [k for k in found if k not in expected] if (
        expected is not None and keys is None) else []
    if missing or unexpected:
        parts = ([f"missing {missing}"] if missing else []) + (
            [f"unexpected {unexpected}"] if unexpected else [])
        wanted = f"; expected {list(expected)}" if expected is not None else ""
        raise FileFormatError(path, f"the entries do not match: {'; '.join(parts)}{wanted} "
                              "(a file saved from another model?)")
    for k in needed:
        if expected is None or k not in expected:
            continue
        shape, dtype = found[k]
        want_shape, want_dtype = expected[k]
        want_shape, want_dtype = tuple(int(d) for d in want_shape), np.dtype(want_dtype)
        if shape != want_shape:
            raise FileFormatError(path, f"entry {k!r} has shape {shape}, expected {want_shape}")
        if not np.can_cast(dtype, want_dtype, "same_kind"):
            raise FileFormatError(path, f"entry {k!r} has dtype {dtype}, which does not cast "
                                  f"to the expected {want_dtype} (same_kind)")
    return needed


def load_tensors(path: str | os.PathLike, expected: Expected | None = None, *,
                 keys: Iterable[str] | None = None
                 ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read named arrays from a safetensors or (tidu's older) ``.npz`` file, all or nothing.

    The format is told by the file's contents, not its name. The whole file is validated
    before any array is read: header length and JSON (safetensors) or declared member sizes
    (npz) against the file's real size; every entry's dtype, shape and byte range; then, with
    ``expected``, every name, shape and dtype. Only the needed entries are read, each into an
    array of exactly its size. Nothing is ever unpickled.

    Args:
        path: the file.
        expected: name -> (shape, dtype): the file must hold exactly these names (unless
            ``keys`` asks for a subset), with equal shapes and dtypes that cast to the
            expected ones (``np.can_cast(..., "same_kind")``).
        keys: read only these names (the file may hold others).

    Returns:
        (name -> array in the file's dtype, metadata; ``{}`` for npz).

    Raises:
        FileFormatError: anything wrong; the message names the file and the problem.
        FileNotFoundError: ``path`` does not exist.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(64)
        try:
            if safetensors_file.looks_like(head):
                return _load_safetensors(path, f, size, expected, keys)
            if npz_file.looks_like(head):
                return _load_npz(path, f, size, expected, keys)
        except Problem as e:
            raise FileFormatError(path, str(e)) from None
        raise FileFormatError(path, not_weights(head, size))


def _load_safetensors(path, f, size, expected, keys):
    entries, metadata, start = safetensors_file.read_header(f, size)
    found = {k: (e.shape, e.dtype) for k, e in entries.items()}
    needed = _check_expected(path, found, expected, keys)
    return {k: safetensors_file.read_entry(f, entries[k], start) for k in needed}, metadata


def _load_npz(path, f, size, expected, keys):
    try:
        with zipfile.ZipFile(f) as zf:
            infos = npz_file.list_members(zf, size)
            members = {k: npz_file.read_header(zf, k, i) for k, i in infos.items()}
            found = {k: (m.shape, m.dtype) for k, m in members.items()}
            needed = _check_expected(path, found, expected, keys)
            return {k: npz_file.read_member(zf, members[k]) for k in needed}, {}
    except npz_file.ZIP_ERRORS as e:
        raise Problem(f"a truncated or corrupt .npz (zip) archive: {e}") from None
