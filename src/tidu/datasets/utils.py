"""Label helpers: one-hot encoding as in Keras."""

from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    Args:
        y: class labels 0..num_classes-1 (array-like or Tensor, any shape; a trailing axis of
            size 1 is dropped, so (n, 1) gives (n, num_classes)).
        num_classes: number of classes; None takes ``max(y) + 1``.
        dtype: dtype of the result.

    Returns:
        An array of shape ``y.shape + (num_classes,)`` with a 1 at each label.

    Raises:
        ValueError: a label is negative, not an integer, or not below ``num_classes``.

    >>> to_categorical([0, 2, 1], 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    from ..tensor import Tensor

    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical: labels must be integers, received non-integral "
                             f"values such as {y[(y != np.round(y)) | ~np.isfinite(y)][0]}")
    elif y.dtype.kind not in "iu":
        raise ValueError(f"to_categorical: labels must be integers, received dtype {y.dtype}")
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1).astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, received {y.min()}")
    if num_classes is None:
        if not y.size:
            raise ValueError("to_categorical: num_classes is needed when y is empty")
        num_classes = int(y.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive int, "
                         f"received {num_classes!r}")
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {y.max()} is out of range for "
                         f"num_classes={num_classes} (labels must be 0..{num_classes - 1})")
    out = np.zeros((y.size, int(num_classes)), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(shape + (int(num_classes),))
