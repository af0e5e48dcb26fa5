"""Where a compiled plan runs: the device of its inputs and state, and moving its constants.

A plan is built for one signature, and the device of the arrays is part of it: a plan made
for NumPy arrays never runs on CuPy arrays, nor the other way round. A plan for a device
(:class:`Placement` with a ``device``) gets its constants, static array arguments and buffers
made on that device once, when it is built; nothing is copied between devices per call.
Inputs and shared state on different devices are an error (:func:`plan_device`), never a
silent copy.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import DeviceError


def where(a):
    """The signature entry for the array ``a``: ``np.ndarray`` on the CPU (cheap), else its
    :class:`~tidu.backend.Device` (type and index)."""
    if type(a) is np.ndarray:
        return np.ndarray
    return backend.device_of(a)


def plan_device(what: str, args, arg_names, owners, owner_names):
    """The one device of the inputs ``args`` and the state arrays of ``owners``: None for the
    CPU, else the Device. Raises :class:`~tidu.errors.DeviceError` naming each device when
    they differ."""
    found = []
    for a, n in zip(args, arg_names):
        if type(a) is not np.ndarray and backend.is_array(a):
            found.append((n, backend.device_of(a)))
        else:
            found.append((n, backend.CPU))
    for o, n in zip(owners, owner_names):
        d = o.data
        found.append((n, backend.CPU if type(d) is np.ndarray else backend.device_of(d)))
    devs = {d for _, d in found}
    if len(devs) <= 1:
        dev = devs.pop() if devs else backend.CPU
        return None if dev.type == "cpu" else dev
    parts = ", ".join(f"{n} on {d}" for n, d in found)
    fix = ""
    if any(d.type != "cpu" for d in devs):
        fix = ("; move the inputs with backend.to_device(x, dev) and shared variables with "
               "v.set_value(backend.to_device(v.get_value(), dev)) (tensors with t.to(dev))")
    raise DeviceError(f"{what}: expected every input and shared variable on one device, got "
                      f"{parts}{fix}; tidu never copies between devices behind your back")


class Placement:
    """How a plan makes and moves arrays: on the CPU (``device`` None) NumPy's own calls,
    on a device the moves that keep every value there."""

    def __init__(self, device=None):
        self.device = device
        self._moved: dict = {}
        if device is not None:
            self.lib = backend.devices.library(device.type)
            self.array_type = self.lib.array_type

    @property
    def on_device(self) -> bool:
        """True for a plan that runs on an accelerator (not the CPU)."""
        return self.device is not None

    def put(self, x):
        """``x`` (an array or a tuple/list of them) on the plan's device; other values, and
        everything on the CPU plan's NumPy arrays, pass unchanged. Each array moves once."""
        if self.device is None:
            if type(x) is np.ndarray or not backend.is_array(x):
                return x
            return backend.to_host(x)
        if isinstance(x, (tuple, list)):
            return type(x)(self.put(v) for v in x)
        if backend.is_array(x):
            if type(x) is self.array_type and backend.device_of(x) == self.device:
                return x
            hit = self._moved.get(id(x))
            if hit is None or hit[0] is not x:
                hit = self._moved[id(x)] = (x, backend.to_device(x, self.device))
            return hit[1]
        return x

    def value(self, out):
        """An operation's result as an array of the plan's device (a 0-d array for the
        NumPy scalar that a ufunc may give back for 0-d operands)."""
        if self.device is None:
            return out if type(out) is np.ndarray else np.asarray(out)
        if type(out) is self.array_type:
            return out
        if type(out) is not np.ndarray and backend.is_array(out):
            return out  # another device's array: the caller's mixed-device check reports it
        return backend.to_device(np.asarray(out), self.device)

    def copy(self, x, dtype=None):
        """A fresh array with the values of ``x`` on the plan's device (``np.array``)."""
        if self.device is None:
            return np.array(x, dtype=dtype)
        x = self.value(x)
        return x.copy() if dtype is None else x.astype(dtype)

    def empty(self, like):
        """An uninitialised buffer of ``like``'s shape and dtype, on ``like``'s device."""
        if type(like) is np.ndarray:
            return np.empty(like.shape, like.dtype)
        return np.empty_like(like, order="C")

