"""Devices: where a tensor's array lives, and moving arrays between them.

A device is named as in PyTorch: ``'cpu'``, ``'cuda'`` or ``'cuda:1'``. Each device type is
served by one array library: NumPy for the CPU, CuPy for NVIDIA GPUs. tidu's operations are
written once against NumPy's API; NumPy hands a call on CuPy arrays to CuPy (NEP 13 and NEP 18,
``__array_ufunc__`` and ``__array_function__``), so the same kernel runs on either. The few
places that make an array from nothing ask :func:`namespace` for the library of an input.

An array library is plugged in with :func:`register`. CuPy is registered on first use of a
``'cuda'`` device; where it is missing, asking for one raises a :class:`~tidu.errors.DeviceError`
that says how to install it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy

from ..errors import DeviceError


class Device:
    """A device: a type (``'cpu'``, ``'cuda'``) and, for accelerators, an index.

    Compares equal to its name, so ``t.device == 'cpu'`` reads as in PyTorch.

    >>> import tidu
    >>> tidu.backend.device('cuda:1')
    device(type='cuda', index=1)
    >>> tidu.backend.device('cpu') == 'cpu'
    True
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (DeviceError, ValueError):
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


@dataclass(frozen=True)
class ArrayLibrary:
    """How one device type stores arrays: the array class, its NumPy-like module, and the
    moves to and from host memory."""

    name: str
    array_type: type
    module: Any
    to_host: Callable[[Any], numpy.ndarray]
    from_host: Callable[[numpy.ndarray, int], Any]
    index_of: Callable[[Any], int]
    special: Callable[[str], Callable] | None = None
    """``special(name)``: the library's counterpart of ``scipy.special.<name>``."""


CPU = Device("cpu")

_LIBS: dict[str, ArrayLibrary] = {}
_BY_TYPE: dict[type, ArrayLibrary] = {}
_LOADERS: dict[str, Callable[[], ArrayLibrary]] = {}

ARRAY_TYPES: set[type] = {numpy.ndarray}
"""Every array class tidu accepts as a tensor's storage (grows as libraries register)."""


def register(device_type: str, lib: ArrayLibrary) -> None:
    """Serve ``device_type`` with the array library ``lib`` (used for CuPy and by tests)."""
    _LIBS[device_type] = lib
    _BY_TYPE[lib.array_type] = lib
    ARRAY_TYPES.add(lib.array_type)


def register_loader(device_type: str, loader: Callable[[], ArrayLibrary]) -> None:
    """Register ``loader`` to build the library for ``device_type`` on first use."""
    _LOADERS[device_type] = loader


def library(device_type: str) -> ArrayLibrary:
    """The array library serving ``device_type``, loading it on first use."""
    lib = _LIBS.get(device_type)
    if lib is None:
        loader = _LOADERS.get(device_type)
        if loader is None:
            raise DeviceError(f"unknown device type {device_type!r}: tidu knows 'cpu' and "
                              f"{', '.join(repr(k) for k in sorted(_LOADERS))}")
        lib = loader()
        register(device_type, lib)
    return lib


def device(spec=None) -> Device:
    """Parse a device name (``'cpu'``, ``'cuda'``, ``'cuda:0'``) or pass a Device through.

    ``None`` means the CPU. A CUDA device needs CuPy (``pip install "tidu[gpu]"``).
    """
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    if hasattr(spec, "type") and hasattr(spec, "index") and not isinstance(spec, str):
        return Device(spec.type, spec.index)  # a torch.device
    if isinstance(spec, int) and not isinstance(spec, bool):
        return Device("cuda", spec)
    if not isinstance(spec, str):
        raise ValueError(f"device: expected a name such as 'cpu' or 'cuda:0', got {spec!r}")
    kind, _, idx = spec.strip().partition(":")
    if kind == "cpu":
        if idx not in ("", "0"):
            raise ValueError(f"device: the CPU has no index, got {spec!r}")
        return CPU
    if kind not in _LIBS and kind not in _LOADERS:
        raise ValueError(f"device: unknown device {spec!r}; expected 'cpu' or 'cuda[:index]'")
    if idx and not idx.isdigit():
        raise ValueError(f"device: the index in {spec!r} must be a non-negative integer")
    return Device(kind, int(idx) if idx else 0)


def device_of(array) -> Device:
    """The device an array lives on (the CPU for NumPy arrays and Python scalars)."""
    if type(array) is numpy.ndarray:
        return CPU
    lib = _BY_TYPE.get(type(array))
    if lib is None:
        return CPU
    return Device(lib.name, lib.index_of(array))


def namespace(array):
    """The NumPy-like module that owns ``array``: ``numpy`` for NumPy arrays, ``cupy`` for
    CuPy arrays. Use it where an array is made from nothing beside an input."""
    if type(array) is numpy.ndarray:
        return numpy
    lib = _BY_TYPE.get(type(array))
    return numpy if lib is None else lib.module


def special_function(name: str, array):
    """``scipy.special.<name>`` for arrays of ``array``'s library (``cupyx.scipy.special`` on
    a GPU), or None on the CPU, where the caller uses scipy itself."""
    if type(array) is numpy.ndarray:
        return None
    lib = _BY_TYPE.get(type(array))
    if lib is None or lib.special is None:
        return None
    return lib.special(name)


def is_array(x) -> bool:
    """True for an array of any registered library (NumPy's, CuPy's)."""
    return type(x) in ARRAY_TYPES


def to_host(array) -> numpy.ndarray:
    """A NumPy array with ``array``'s values (a copy from device memory, or ``array`` itself)."""
    if type(array) is numpy.ndarray:
        return array
    lib = _BY_TYPE.get(type(array))
    if lib is None:
        return numpy.asarray(array)
    return lib.to_host(array)


def to_device(array, dev) -> Any:
    """``array`` moved to device ``dev`` (returned unchanged when it is already there)."""
    dev = device(dev)
    if device_of(array) == dev:
        return array
    host = to_host(array)
    if dev.type == "cpu":
        return host
    return library(dev.type).from_host(host, dev.index or 0)


def mixed(arrays) -> list[tuple[int, Device]] | None:
    """``[(position, device), ...]`` when the arrays in ``arrays`` live on more than one
    device, else None (scalars and non-arrays are ignored)."""
    found = [(i, device_of(a)) for i, a in enumerate(arrays) if type(a) in ARRAY_TYPES]
    if len({d for _, d in found}) > 1:
        return found
    return None


def mixed_error(what: str, arrays, names=None) -> DeviceError:
    """The error for operands of ``what`` found on different devices, naming each one."""
    found = mixed(arrays) or []
    parts = ", ".join(f"{names[i] if names else f'input {i}'} on {d}" for i, d in found)
    return DeviceError(
        f"{what}: expected all tensors on the same device, got {parts}; move them with "
        ".to(device) first (tidu never copies between devices behind your back)")


def _load_cupy() -> ArrayLibrary:
    try:
        import cupy
    except ImportError as e:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed: pip install \"tidu[gpu]\" "
            "(cupy-cuda12x) on a machine with an NVIDIA GPU") from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise DeviceError(f"device 'cuda': CuPy is installed but found no usable GPU ({e})") \
            from e
    if count == 0:
        raise DeviceError("device 'cuda': CuPy is installed but this machine has no GPU")

    def from_host(host, index):
        with cupy.cuda.Device(index):
            return cupy.asarray(host)

    def special(name):
        import cupyx.scipy.special

        return getattr(cupyx.scipy.special, name)

    return ArrayLibrary("cuda", cupy.ndarray, cupy, to_host=lambda a: a.get(),
                        from_host=from_host, index_of=lambda a: a.device.id, special=special)


register_loader("cuda", _load_cupy)


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU (``torch.cuda.is_available``)."""
    try:
        library("cuda")
    except DeviceError:
        return False
    return True


def parse_to(args, device=None, dtype=None, what: str = "to"):
    """Split ``.to(...)``'s positional arguments into (device, dtype), as PyTorch reads them:
    a device name or Device is a device, an array or tensor gives its dtype and device,
    anything else is a dtype. Returns ``(Device or None, dtype or None)``."""
    for a in args:
        if isinstance(a, Device) or (isinstance(a, str) and _looks_like_device(a)):
            device = a
        elif hasattr(a, "dtype") and hasattr(a, "shape"):
            dtype = a.dtype
            data = getattr(a, "data", a)
            device = device_of(data)
        else:
            dtype = a
    if device is not None:
        device = globals()["device"](device)
        if device.type != "cpu":
            library(device.type)  # fails here, naming what is missing
    if dtype is not None:
        try:
            dtype = numpy.dtype(dtype)
        except TypeError as e:
            raise TypeError(f"{what}: expected a device ('cpu', 'cuda:0') or a dtype, got "
                            f"{dtype!r}") from e
    return device, dtype


def _looks_like_device(name: str) -> bool:
    kind = name.split(":")[0].strip()
    return (":" in name or kind == "cpu" or kind in _LIBS or kind in _LOADERS
            or kind in ("mps", "meta", "xpu"))
