"""Atomic writes: a temporary file beside the target, fsync, ``os.replace``, fsync of the folder.

A reader of ``path`` sees either the old file or the new one, never a partial one, even if the
writer is killed (``SIGKILL``, power loss after the directory fsync).

Temporary files are named ``.<name>.tidu-tmp-<pid>-<random>``. A write killed before its rename
leaves one behind; the next ``atomic_write`` into the same folder removes the leftovers it can
prove stale (see ``remove_stale``):

- its writer (the pid in the name) no longer runs on this machine and it is at least
  ``STALE_MIN_AGE_S`` (2 s) old, or
- it has not been modified for ``STALE_MAX_AGE_S`` (1 hour): its pid was reused, or it was
  written from another machine sharing the folder.

A writer that is alive keeps its file. Leftovers of tidu before 0.2 (``tmpXXXXXXXX.tmp.npz``
from ``save_weights``) carry no pid and are removed by the one-hour rule only.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable
from typing import BinaryIO

STALE_MIN_AGE_S = 2.0
STALE_MAX_AGE_S = 3600.0
_TMP = re.compile(r"^\.(?P<name>.+)\.tidu-tmp-(?P<pid>\d+)-[0-9a-f]{8}$")
_LEGACY = re.compile(r"^tmp[a-z0-9_]{8}\.tmp\.npz$")


def temp_name(name: str) -> str:
    """The temporary name a write of ``name`` uses: ``.<name>.tidu-tmp-<pid>-<random>``."""
    return f".{name}.tidu-tmp-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or we cannot tell: keep the file
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale(directory: str | os.PathLike, now: float | None = None) -> list[str]:
    """Remove the leftovers of killed writes in ``directory``; return the names removed.

    Args:
        directory: the folder to clean (nothing outside it is touched).
        now: the current time (``time.time()``), for tests.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP.match(entry.name)
        if not m and not _LEGACY.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        dead = m is not None and not _pid_alive(int(m["pid"]))
        if (dead and age >= STALE_MIN_AGE_S) or age >= STALE_MAX_AGE_S:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], object]) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always either the old or the new file.

    Args:
        path: the target; its folder is created if missing.
        data: the bytes to write, or a function that writes into the binary file object it is
            given (if it raises, the target is left as it was and the error propagates).

    A new file gets mode ``0o666 & ~umask``; an overwritten file keeps its mode. Leftovers of
    killed writes in the folder are removed first (see the module docstring).

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "hello.txt")
    >>> atomic_write(p, b"hi"); open(p, "rb").read()
    b'hi'
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    remove_stale(directory)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    tmp = os.path.join(directory, temp_name(name))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
                f.write(data)
            else:
                data(f)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)
