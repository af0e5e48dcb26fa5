"""Moving a module's weights between devices and dtypes (``model.to('cuda')``).

Weights keep their identity (the same Parameter objects, new arrays), so an optimizer made
before the move still updates them; its state follows on its next step. A module moved before
it is built remembers the device and creates its weights there.
"""

from __future__ import annotations

from .. import backend
from ..safety import bump_version


class DeviceMixin:
    """``to``, ``cuda``, ``cpu``, ``device``, ``float``/``double`` for Module (PyTorch's)."""

    def to(self, *args, device=None, dtype=None):
        """Move every weight to ``device`` and/or cast floating weights to ``dtype``, in place.

        Accepts ``to('cuda')``, ``to(tidu.device('cpu'))``, ``to('float64')`` or both as
        keywords, as ``torch.nn.Module.to``. Returns the module.
        """
        device, dtype = backend.parse_to(args, device, dtype, f"{type(self).__name__}.to")
        for m in self.modules():
            if device is not None:
                object.__setattr__(m, "_device", device)
        for p in self.parameters():
            data = p.data
            if device is not None:
                data = backend.to_device(data, device)
            if dtype is not None and backend.is_floating(data.dtype):
                data = data.astype(dtype, copy=False)
            if data is not p.data:
                p.data = data
                if p.grad is not None:
                    g = backend.to_device(p.grad.data, backend.device_of(data))
                    p.grad.data = g.astype(data.dtype, copy=False)
                bump_version(p)
        opt = self.__dict__.get("optimizer")  # a compiled Keras model's optimizer
        if opt is not None and hasattr(opt, "_state"):
            follow_parameters(opt)
        return self

    def cuda(self, device=None):
        """Move the weights to a GPU (``'cuda'``, or ``'cuda:<device>'`` for an int)."""
        return self.to(backend.device("cuda" if device is None else device))

    def cpu(self):
        """Move the weights to the CPU."""
        return self.to(backend.CPU)

    def float(self):
        """Cast floating weights to float32."""
        return self.to(dtype="float32")

    def double(self):
        """Cast floating weights to float64."""
        return self.to(dtype="float64")

    @property
    def device(self) -> backend.Device:
        """The device of the first weight (or the one given to ``to`` before building)."""
        for p in self.parameters():
            return backend.device_of(p.data)
        return self.__dict__.get("_device", backend.CPU)



def follow_parameters(optimizer) -> None:
    """Move each parameter's optimizer state (momenta, squared averages) to the device the
    parameter now lives on; nothing moves for state already there."""
    params = getattr(optimizer, "_params", None) or []
    for p, slots in zip(params, optimizer._state):
        dev = backend.device_of(p.data)
        for k, a in slots.items():
            if backend.is_array(a) and backend.device_of(a) != dev:
                slots[k] = backend.to_device(a, dev)
