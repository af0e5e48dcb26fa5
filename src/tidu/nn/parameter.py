"""Parameter: the Tensor a Module learns."""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A floating-point Tensor that requires gradients by default and that a Module registers.

    Assigning a Parameter to an attribute of a :class:`~tidu.nn.Module` adds it to the
    module's ``parameters()``. The array is kept as given (no copy) unless it has to be
    converted to a floating dtype (integers become float32).

    Args:
        data: array, scalar, nested list or Tensor.
        name: optional label (layers use ``'<layer name>/<weight name>'``).
        requires_grad: False freezes the parameter (it stays registered and saved).

    >>> import tidu
    >>> w = tidu.nn.Parameter([[1.0, 2.0]])
    >>> w.requires_grad, w.shape
    (True, (1, 2))
    """

    __slots__ = ()

    def __init__(self, data, name: str | None = None, requires_grad: bool = True):
        arr = data.data if isinstance(data, Tensor) else backend.as_array(data)
        if not backend.is_floating(arr.dtype):
            arr = arr.astype(backend.default_float)
        super().__init__(arr, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("tensor"):]
