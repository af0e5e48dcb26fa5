"""Where data-set files come from: a folder, ``$TIDU_DATASETS``, or a verified download cache.

Every file is checked against its published SHA-256 before it is read, whether it was given by
the user or downloaded, so a corrupt or truncated file is reported and never loaded. Downloads go
to a temporary file beside the target and are moved into place (``os.replace``) only once their
checksum matches, so an interrupted or bad download never leaves a file in the cache.

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
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import TiduError

ENV_ROOT = "TIDU_DATASETS"
ENV_CACHE = "TIDU_CACHE"
ENV_MIRROR = "TIDU_DATASETS_MIRROR"
TIMEOUT_S = 60.0
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


def _fetch_one(url: str, out, limit: int) -> tuple[str, int]:
    """Stream ``url`` into the open file ``out``; return (sha256, bytes), reading at most
    ``limit + 1`` bytes so that an oversized answer is caught without reading it all."""
    import urllib.request

    digest, size = hashlib.sha256(), 0
    # A fresh opener per call honours the current proxy environment variables.
    opener = urllib.request.build_opener()
    with opener.open(url, timeout=TIMEOUT_S) as response:
        while size <= limit and (chunk := response.read(min(_CHUNK, limit + 1 - size))):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def download(folder: str | os.PathLike, spec: FileSpec, mirrors: Sequence[str]) -> Path:
    """Download ``spec`` into ``folder`` from the first mirror that delivers the published
    bytes. Each try writes a temporary file in ``folder``, checks its SHA-256, and only then
    moves it into place; a failed try leaves nothing behind and the next mirror is tried.

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
    failures, mismatch = [], False
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += spec.name
        print(f"Downloading {url}", file=sys.stderr)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{spec.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                got, size = _fetch_one(url, out, spec.size)
            if got != spec.sha256 or size != spec.size:
                mismatch = True
                more = " or more" if size > spec.size else ""
                failures.append(f"{url}: sha256 mismatch: expected {spec.sha256}, received {got} "
                                f"({size}{more} bytes, expected {spec.size})")
                continue
            os.replace(tmp, target)
            _verified[_key(target)] = got
            return target
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            failures.append(f"{url}: {type(e).__name__}: {e}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
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
