"""PyTorch's argument names on tidu's ops: ``dim`` for ``axis``, ``keepdim`` for ``keepdims``.

``@torch_names`` wraps a public op so that it also takes PyTorch's spellings. Only names the
op really has are translated (an op without ``keepdims`` still refuses ``keepdim``), and an
argument given under both spellings is refused. Where PyTorch returns something else for the
same call, the PyTorch spelling gets PyTorch's result (docs/semantics.md, "PyTorch's
spellings"): ``max(x, dim=1)`` gives ``(values, indices)``, ``var(x, dim=1)`` divides by n - 1.

>>> import tidu
>>> x = tidu.tensor([[1.0, 5.0], [7.0, 2.0]])
>>> x.sum(dim=1, keepdim=True).tolist()
[[6.0], [9.0]]
>>> x.max(dim=1).indices.tolist()
[1, 0]
"""

from __future__ import annotations

import functools
import inspect

TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
               "end_dim": "end_axis", "dim1": "axis1", "dim2": "axis2", "dims": "axis",
               "correction": "ddof"}
"""PyTorch's argument name -> tidu's."""


def torch_names(fn=None, *, values_indices: str | None = None, unbiased: bool = False):
    """Let ``fn`` take PyTorch's argument names (see :data:`TORCH_NAMES`).

    Args:
        fn: the op (its first parameter is the tensor).
        values_indices: ``"max"`` or ``"min"``: called with ``dim=`` (not ``axis=``), return
            ``ValuesIndices(values, indices)`` as ``torch.max(x, dim)`` does; with a tensor
            as second argument, the elementwise maximum (minimum), as ``torch.max(a, b)``.
        unbiased: the op has ``ddof`` (var, std): called with ``dim=`` or ``unbiased=``,
            use PyTorch's default ``ddof=1`` (``unbiased=False``: 0) unless ``correction``
            or ``ddof`` is given.
    """
    if fn is None:
        return functools.partial(torch_names, values_indices=values_indices, unbiased=unbiased)
    params = list(inspect.signature(fn).parameters)
    renames = {t: n for t, n in TORCH_NAMES.items() if n in params and t not in params}
    position = {n: params.index(n) for n in renames.values()}
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not kwargs and not values_indices:  # positional only: nothing to translate
            return fn(*args)
        torch_call = "dim" in kwargs
        for t, n in renames.items():
            if t in kwargs:
                if n in kwargs or len(args) > position[n]:
                    raise TypeError(f"{name}: got both {n}= and {t}= (PyTorch's name for "
                                    f"{n}); pass one")
                kwargs[n] = kwargs.pop(t)
        if unbiased and "unbiased" in kwargs:
            flag = kwargs.pop("unbiased")
            if "ddof" in kwargs or len(args) > position.get("ddof", params.index("ddof")):
                raise TypeError(f"{name}: got both ddof (or correction) and unbiased; pass one")
            kwargs["ddof"] = 1 if flag else 0
        elif unbiased and torch_call and "ddof" not in kwargs and len(args) <= params.index(
                "ddof"):
            kwargs["ddof"] = 1
        if values_indices and len(args) == 2 and _is_tensor(args[1]) and not kwargs:
            from .elementwise import maximum, minimum  # torch.max(a, b): the elementwise max

            return (maximum if values_indices == "max" else minimum)(*args)
        if values_indices and torch_call and kwargs.get("axis") is not None:
            return _values_indices(args, kwargs, values_indices, name)
        return fn(*args, **kwargs)

    return wrapper


def _is_tensor(v) -> bool:
    from ..tensor import Tensor

    return isinstance(v, Tensor)


def _values_indices(args, kwargs, which: str, op: str):
    """``torch.max(x, dim, keepdim)``: the extreme values and their int64 positions; the
    gradient goes to the chosen element (the first among ties), as in PyTorch."""
    from .._shapes import check_axis
    from .index import gather
    from .scan import argmax, argmin
    from .shape import squeeze
    from .sort import ValuesIndices, as_tensor

    extra = set(kwargs) - {"axis", "keepdims"}
    if len(args) != 1 or extra:
        raise TypeError(f"{op}(x, dim=..., keepdim=...) takes only those arguments, got "
                        f"{len(args) - 1} more positional and {sorted(extra)}")
    x = as_tensor(args[0])
    axis = check_axis(kwargs["axis"], x.ndim, op)
    keepdims = bool(kwargs.get("keepdims", False))
    idx = (argmax if which == "max" else argmin)(x, axis, keepdims=True)
    values = gather(x, axis, idx)
    if not keepdims:
        values, idx = squeeze(values, axis), squeeze(idx, axis)
    return ValuesIndices(values, idx)
