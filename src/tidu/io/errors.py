"""FileFormatError, and what a file that is not a weights file looks like."""

from __future__ import annotations

import os

from ..errors import TiduError

NEVER = "tidu never unpickles, so it cannot load it"
ONLY = "tidu reads only .safetensors and pickle-free .npz files, and never unpickles"


class FileFormatError(TiduError, ValueError):
    """A file tidu refuses to read: the message names the file and what is wrong in it."""

    def __init__(self, path, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{os.path.basename(self.path)}: {problem} (file {self.path})")


def not_weights(head: bytes, size: int) -> str:
    """What a file that is neither safetensors nor npz seems to be, and what tidu reads."""
    what = _looks_like(head, size)
    return what if NEVER in what else f"{what}; {ONLY}"


def _looks_like(head: bytes, size: int) -> str:
    if size == 0:
        return "the file is empty (0 bytes): an interrupted save or download?"
    stripped = head.lstrip().lower()
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return (f"this is a Python pickle (protocol {head[1]}), not a weights file; pickles can "
                f"run arbitrary code when loaded and {NEVER}. Save the weights as safetensors")
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml", b"<")):
        return ("this is an HTML or XML page, not a weights file: a download that returned a "
                "web page (an error or login page?)")
    if head.startswith(b"\x93NUMPY"):
        return ("this is a single .npy array, not a weights file (save_weights writes "
                ".safetensors or .npz)")
    if head.startswith(b"\x1f\x8b"):
        return "this is a gzip stream, not a weights file (decompress it first?)"
    if head.startswith(b"\x89HDF"):
        return "this is an HDF5 file (Keras .h5?), which tidu does not read as weights"
    if stripped.startswith((b"{", b"[")):
        return "this is JSON or text, not a weights file"
    shown = head[:16].hex(" ")
    return (f"this is neither a safetensors nor an .npz file (its first bytes are {shown}); "
            "random or corrupt data?")
