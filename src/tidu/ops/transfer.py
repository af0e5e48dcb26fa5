"""Moving tensors between devices: ``t.to('cuda')``, ``t.cpu()``, ``t.device``.

A move is an operation like any other: gradients flow back to the source device. tidu never
moves data behind the user's back; operands on different devices raise a
:class:`~tidu.errors.DeviceError` that names each one.
"""

from __future__ import annotations

from .. import backend
from ..autograd import Function

__all__ = ["to_device"]


class ToDevice(Function):
    """Copy to another device; the gradient is copied back."""

    def forward(self, x, device):
        self.source = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, g):
        return backend.to_device(g, self.source)

    @staticmethod
    def vjp(g, x, device):
        return ToDevice.apply(g, backend.device_of(x.data))


def to_device(x, device):
    """``x`` on ``device`` (``'cpu'``, ``'cuda'``, ``'cuda:1'``); ``x`` itself if already there."""
    device = backend.device(device)
    if device.type != "cpu":
        backend.devices.library(device.type)
    if backend.device_of(x.data) == device:
        return x
    return ToDevice.apply(x, device)


def to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False):
    """``t.to(dtype)``, ``t.to(device)``, ``t.to(other)`` (other's dtype and device), or both
    (``t.to('cuda', 'float64')``), as in PyTorch. Returns ``t`` itself when nothing changes
    (unless ``copy=True``); otherwise a new tensor that gradients flow back through.

    >>> import tidu
    >>> tidu.tensor([1, 2]).to("float32").dtype
    dtype('float32')
    """
    from . import cast

    device, dtype = backend.parse_to(args, device, dtype, "to")
    out = self
    if dtype is not None and dtype != self.dtype:
        out = cast(out, dtype)
    if device is not None and backend.device_of(out.data) != device:
        out = ToDevice.apply(out, device)
    if out is self and copy:
        return self.clone()
    return out


def cpu(self):
    """This tensor on the CPU (``self`` when it is already there)."""
    return to_device(self, backend.CPU)


def cuda(self, device=None):
    """This tensor on a GPU: ``'cuda'``, or ``'cuda:<device>'`` for an int (needs CuPy)."""
    return to_device(self, backend.device("cuda" if device is None else device))


def _device(self) -> backend.Device:
    """The device this tensor's array lives on (``device(type='cpu')`` for NumPy arrays)."""
    return backend.device_of(self.data)


def _is_cuda(self) -> bool:
    """True when the tensor lives on a GPU."""
    return backend.device_of(self.data).type == "cuda"


TENSOR_METHODS = [("to", to), ("cpu", cpu), ("cuda", cuda),
                  ("device", property(_device, doc=_device.__doc__)),
                  ("is_cuda", property(_is_cuda, doc=_is_cuda.__doc__))]
