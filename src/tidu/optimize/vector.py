"""Parameters as one flat float64 vector and back (``torch.nn.utils.parameters_to_vector``).

scipy's minimizers work on a single 1-D float64 array; a model has many arrays of several
shapes and dtypes. These two helpers translate in both directions, in ``parameters()`` order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor


def _as_list(params) -> list:
    if isinstance(params, Tensor):
        return [params]
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters[{i}] must be a tidu Tensor or Parameter, got "
                            f"{type(p).__name__}")
    return params


def parameters_to_vector(params: Iterable[Tensor]) -> np.ndarray:
    """Concatenate the parameters' values, each flattened, into one new float64 vector.

    >>> import tidu
    >>> w, b = tidu.tensor([[1.0, 2.0]]), tidu.tensor(3.0)
    >>> parameters_to_vector([w, b]).tolist()
    [1.0, 2.0, 3.0]
    """
    params = _as_list(params)
    if not params:
        return np.zeros(0)
    return np.concatenate([np.asarray(p.data, dtype=np.float64).ravel() for p in params])


def vector_to_parameters(vec, params: Iterable[Tensor]) -> None:
    """Copy slices of ``vec`` into the parameters, in place, cast to each one's dtype.

    In place, so that layers, optimizers and anyone else holding the parameters see the new
    values. Raises ValueError when ``vec`` does not have exactly as many entries as the
    parameters together.

    >>> import tidu
    >>> w = tidu.tensor([[0.0, 0.0]])
    >>> vector_to_parameters([1.5, -2.0], [w])
    >>> w.numpy().tolist(), str(w.dtype)
    ([[1.5, -2.0]], 'float32')
    """
    params = _as_list(params)
    vec = np.asarray(vec)
    total = sum(p.data.size for p in params)
    if vec.ndim != 1 or vec.size != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} entries "
                         f"(the parameters' sizes added up), got shape {vec.shape}")
    start = 0
    for p in params:
        n = p.data.size
        chunk = vec[start:start + n].reshape(p.data.shape)
        if p.data.flags.writeable:
            np.copyto(p.data, chunk, casting="unsafe")
        else:  # a read-only view (e.g. made from a broadcast): give it its own array
            p.data = chunk.astype(p.data.dtype)
        start += n
