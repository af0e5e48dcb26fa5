"""Where data-set files come from: a folder, ``$TIDU_DATASETS``, or a verified download cache.

Every file is checked against its published SHA-256 before it is read, whether it was given by
the user or downloaded, so a corrupt or truncated file is reported and never loaded. Downloads go
to a temporary file beside the target and are moved into place (``os.replace``) only once their
checksum matches, so an interrupted or bad download never leaves a file in the cache.
Each try has an overall deadline (``DEADLINE_S``) besides the per-read timeout (``TIMEOUT_S``),
so a mirror that trickles bytes is abandoned. Leftovers of killed downloads are removed by the
next download into the same folder (``tidu.io.atomic_write``'s rule; older ``.part`` files once
untouched for longer than any download may last).

Environment variables:
    TIDU_DATASETS: a root folder holding one folder per data set (``mnist/``,
        ``fashion-mnist/``, ``catvnoncat/``); used when a loader gets no ``path``.
    TIDU_CACHE: the download cache root (default ``~/.tidu/datasets``); data set ``name`` is
        cached in ``$TIDU_CACHE/name``.
    TIDU_DATASETS_MIRROR: one or more base URLs (separated by commas or spaces) laid out like
        ``TIDU_DATASETS`` (``<base>/mnist/<file>``); when set, they replace the built-in mirrors.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import TiduError
from ..io import atomic_write

ENV_ROOT = "TIDU_DATASETS"
ENV_CACHE = "TIDU_CACHE"
ENV_MIRROR = "TIDU_DATASETS_MIRROR"
TIMEOUT_S = 60.0  # per read
DEADLINE_S = 900.0  # per download try, all reads together
_LEGACY_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")  # tempfile names of tidu <= 0.1
_CHUNK = 1 << 20

# (resolved path, size, mtime_ns) -> sha256 of files already verified in this process.
_verified: dict[tuple[str, int, int], str] = {}


class ChecksumError(TiduError, ValueError):
    """A data-set file whose size or SHA-256 is not the published one (corrupt or truncated)."""


class DownloadError(TiduError, OSError):
    """No mirror could deliver a data-set file."""


@dataclass(frozen=True)
class FileSpec:
    """One published file of a data set: its name, SHA-256 (hex) and size in bytes."""

    name: str
    sha256: str
    size: int


def cache_root() -> Path:
    """The download cache root: ``$TIDU_CACHE``, else ``~/.tidu/datasets``."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else Path.home() / ".tidu" / "datasets"


def mirror_urls(dataset: str, mirrors: Sequence[str]) -> list[str]:
    """Base URLs to try, in order: ``$TIDU_DATASETS_MIRROR`` roots if set, else ``mirrors``."""
    env = os.environ.get(ENV_MIRROR, "").replace(",", " ").split()
    if env:
        return [root.rstrip("/") + "/" + dataset + "/" for root in env]
    return list(mirrors)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def verify_file(path: str | os.PathLike, spec: FileSpec) -> Path:
    """Check ``path`` against ``spec`` (size, then SHA-256); results are cached per
    (path, size, mtime) in this process, so repeated loads hash each file once.

    Raises:
        ChecksumError: the size or the checksum differs from the published one.
    """
    path = Path(path)
    key = _key(path)
    if _verified.get(key) == spec.sha256:
        return path
    if key[1] != spec.size:
        raise ChecksumError(
            f"{path}: {key[1]} bytes, expected {spec.size} bytes for {spec.name} (truncated, "
            f"corrupt or not the published file); sha256 expected {spec.sha256}. Replace it "
            "with the published file (or delete it to download it again).")
    got = _sha256(path)
    if got != spec.sha256:
        raise ChecksumError(
            f"{path}: sha256 mismatch for {spec.name}: expected {spec.sha256}, received {got} "
            "(corrupt or not the published file). Replace it with the published file "
            "(or delete it to download it again).")
    _verified[key] = got
    return path


class _Mismatch(Exception):
    """Raised inside the write of a download whose bytes are not the published ones."""


def _fetch_one(url: str, out, limit: int) -> tuple[str, int]:
    """Stream ``url`` into the open file ``out``; return (sha256, bytes), reading at most
    ``limit + 1`` bytes so that an oversized answer is caught without reading it all.

    Raises:
        TimeoutError: the download took longer than ``DEADLINE_S`` (or a read ``TIMEOUT_S``).
    """
    import urllib.request

    digest, size = hashlib.sha256(), 0
    deadline = time.monotonic() + DEADLINE_S
    # A fresh opener per call honours the current proxy environment variables.
    opener = urllib.request.build_opener()
    with opener.open(url, timeout=min(TIMEOUT_S, DEADLINE_S)) as response:
        # read1 returns what one socket read delivers, so the deadline is checked even when
        # a mirror trickles a byte at a time.
        while size <= limit and (chunk := response.read1(min(_CHUNK, limit + 1 - size))):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"abandoned after the {DEADLINE_S:g} s deadline with {size} of {limit} "
                    "bytes (the mirror is too slow; set tidu.datasets._download.DEADLINE_S "
                    "or use another mirror)")
    return digest.hexdigest(), size


def _remove_legacy_parts(folder: Path) -> None:
    """Remove ``.part`` files of killed downloads of tidu <= 0.1 once no download can still
    be writing them."""
    now = time.time()
    for p in folder.iterdir():
        if _LEGACY_PART.match(p.name):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > DEADLINE_S + TIMEOUT_S and p.is_file():
                    p.unlink()


def download(folder: str | os.PathLike, spec: FileSpec, mirrors: Sequence[str]) -> Path:
    """Download ``spec`` into ``folder`` from the first mirror that delivers the published
    bytes. Each try writes a temporary file in ``folder`` (``tidu.io.atomic_write``), checks
    its SHA-256, and only then moves it into place; a failed try (including one past the
    ``DEADLINE_S`` deadline) leaves nothing behind and the next mirror is tried.

    Raises:
        ChecksumError: every mirror failed and at least one delivered the wrong bytes.
        DownloadError: every mirror failed (network errors, HTTP errors).
    """
    import http.client
    import urllib.error

    if not mirrors:
        raise DownloadError(f"{spec.name}: no mirror to download it from (set {ENV_MIRROR})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.name
    _remove_legacy_parts(folder)
    failures, mismatch = [], False
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += spec.name
        print(f"Downloading {url}", file=sys.stderr)
        result = {}

        def fetch(out, url=url, result=result):
            got, size = _fetch_one(url, out, spec.size)
            result["sha256"] = got
            if got != spec.sha256 or size != spec.size:
                more = " or more" if size > spec.size else ""
                raise _Mismatch(f"{url}: sha256 mismatch: expected {spec.sha256}, received "
                                f"{got} ({size}{more} bytes, expected {spec.size})")

        try:
            atomic_write(target, fetch)
            _verified[_key(target)] = result["sha256"]
            return target
        except _Mismatch as e:
            mismatch = True
            failures.append(str(e))
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            failures.append(f"{url}: {type(e).__name__}: {e}")
    detail = "\n  ".join(failures)
    cls = ChecksumError if mismatch else DownloadError
    raise cls(f"could not download {spec.name} into {folder}; tried:\n  {detail}")


def locate(dataset: str, files: Sequence[FileSpec], path: str | os.PathLike | None,
           mirrors: Sequence[str]) -> dict[str, Path]:
    """Verified local paths of a data set's files, by file name.

    ``path`` (a folder holding the files) wins; else ``$TIDU_DATASETS/<dataset>``; else the
    cache ``$TIDU_CACHE/<dataset>`` (default ``~/.tidu/datasets/<dataset>``), where missing or
    corrupt files are downloaded from ``mirrors`` (or ``$TIDU_DATASETS_MIRROR``).

    Raises:
        FileNotFoundError: ``path`` or ``$TIDU_DATASETS`` lacks a file (nothing is downloaded
            into a folder the user named).
        ChecksumError: a file is corrupt or truncated.
        DownloadError: a missing file could not be downloaded.
    """
    if path is not None:
        folder, source = Path(path).expanduser(), "the path argument"
    elif os.environ.get(ENV_ROOT):
        folder, source = Path(os.environ[ENV_ROOT]).expanduser() / dataset, f"${ENV_ROOT}"
    else:
        return {f.name: _cached(cache_root() / dataset, f, dataset, mirrors) for f in files}
    found = {}
    for f in files:
        p = folder / f.name
        if not p.is_file():
            names = ", ".join(g.name for g in files)
            raise FileNotFoundError(
                f"{dataset}: {p} not found (folder from {source}); the folder must hold "
                f"{names}. Pass path=None with {ENV_ROOT} unset to download them into "
                f"{cache_root() / dataset}.")
        found[f.name] = verify_file(p, f)
    return found


def _cached(folder: Path, spec: FileSpec, dataset: str, mirrors: Sequence[str]) -> Path:
    target = folder / spec.name
    if target.is_file():
        try:
            return verify_file(target, spec)
        except ChecksumError as e:
            warnings.warn(f"{e} Downloading it again.", stacklevel=4)
    return download(folder, spec, mirror_urls(dataset, mirrors))
