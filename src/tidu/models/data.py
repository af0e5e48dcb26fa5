"""Turning user data into batches: checks, conversion, validation split, shuffling.

Every entry point of the training API (``fit``, ``evaluate``, ``predict``, ``train_step``)
passes its data through the checks here, so that bad input fails at once with a message
naming the method, the argument, what was expected and what arrived, instead of a NumPy
error from deep inside a batch or, worse, a made-up number.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..tensor import Tensor

DEFAULT_BATCH_SIZE = 32
"""The batch size used when ``batch_size=None`` (Keras's default)."""


def _describe(x) -> str:
    if isinstance(x, (str, bytes)):
        return f"a {type(x).__name__} ({x[:40]!r})"
    return f"a {type(x).__name__}"


def to_array(x, what: str, owner: str | None = None, *, labels: bool = False) -> np.ndarray:
    """``x`` (array, Tensor or nested list of numbers) as a NumPy array of real numbers.

    Inputs (``labels=False``) become floating point: integers and booleans as tidu's default
    float (float32), float64 too (as Keras casts to the model's dtype); other floats keep
    their dtype. Targets (``labels=True``) keep integer and boolean dtypes (class labels);
    float64 becomes the default float.

    Args:
        x: the data.
        what: the argument's name for messages ('x', 'y', 'validation_data[0]').
        owner: the method for messages ('fit', 'predict').
        labels: convert as targets rather than inputs.

    Raises:
        TypeError: None, a dict, a string, a symbolic Tensor, or an array that is not of
            real numbers (strings, objects, complex, dates).
        ShapeError: a scalar, where samples on the first axis are expected.
    """
    where = f"{owner}: {what}" if owner else what
    expected = "a NumPy array (or Tensor, or nested list) of real numbers, samples first"
    if x is None:
        raise TypeError(f"{where} is None; expected {expected}")
    if isinstance(x, (dict, str, bytes, set, frozenset)):
        hint = (" (tidu models take one input array, not a dict of named inputs)"
                if isinstance(x, dict) else "")
        raise TypeError(f"{where} must be {expected}, got {_describe(x)}{hint}")
    if isinstance(x, Tensor):
        if x.data is None:
            raise TypeError(f"{where} is a symbolic tensor ({x!r}); expected {expected}")
        x = x.data
    if backend.is_array(x) and type(x) is not np.ndarray:
        x = backend.to_host(x)  # a device array: batches are cut on the host, then moved
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where} could not be made into an array ({str(e).rstrip('.')}); "
                        f"expected "
                        f"{expected}, with samples of equal shape") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{where} is complex ({arr.dtype}); tidu trains on real numbers and "
                        "will not drop the imaginary part silently: pass x.real, np.abs(x), "
                        "or the two parts as features")
    if kind not in "biuf":
        raise TypeError(f"{where} must hold real numbers, got an array of dtype {arr.dtype}"
                        f"{_dtype_hint(arr)}")
    if arr.ndim == 0:
        raise ShapeError(f"{where} must have samples on its first axis, got a scalar "
                         f"({arr.item()!r}); pass an array of shape (n_samples, ...)")
    if kind == "f":
        if arr.dtype == np.float64:
            arr = arr.astype(backend.default_float)
    elif not labels:
        arr = arr.astype(backend.default_float)
    return arr


def _dtype_hint(arr) -> str:
    if arr.dtype.kind in "US":
        return " (strings: convert them to numbers first, e.g. with astype(float))"
    if arr.dtype.kind == "O":
        return (" (Python objects: a None, a dict, or samples of unequal shapes somewhere "
                "in the data)")
    return ""


def check_batch_size(batch_size, owner: str) -> int:
    """``batch_size`` as a positive int; ``None`` means :data:`DEFAULT_BATCH_SIZE`.

    Raises:
        TypeError: not an integer (a float, a bool, a string).
        ValueError: zero or negative.
    """
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"{owner}: batch_size must be a positive integer (or None for "
                        f"{DEFAULT_BATCH_SIZE}), got {batch_size!r} "
                        f"({type(batch_size).__name__})")
    if batch_size < 1:
        raise ValueError(f"{owner}: batch_size must be a positive integer (or None for "
                         f"{DEFAULT_BATCH_SIZE}), got {batch_size}")
    return int(batch_size)


def check_pair(x, y, what: str = "x and y", owner: str | None = None,
               names: tuple = ("x", "y")) -> None:
    """``x`` has at least one sample, and ``y`` (unless None) as many samples as ``x``."""
    where = f"{owner}: " if owner else ""
    if len(x) == 0:
        raise ValueError(f"{where}{names[0]} has no samples (shape {x.shape}); expected at "
                         "least one sample on the first axis")
    if y is not None and len(x) != len(y):
        raise ValueError(f"{where}{what} must have the same number of samples (first axis): "
                         f"got {len(x)} and {len(y)}")


def check_input_shape(x, model, owner: str, what: str = "x") -> None:
    """``x`` fits the input shape the model was built for (or, if unknown, is a batch).

    A model built for inputs of shape ``(None, *sample)`` needs ``x.shape[1:] == sample``
    (``None`` matches any size). An input of exactly ``sample`` is one sample without its
    batch axis, and is refused with that hint: treating (3,) as a batch of three scalars or
    as one sample would both be silent guesses. While the input shape is unknown, 1-D input
    is refused for the same reason (build the model first, ``model.build((None,))``, if it
    really takes one number per sample).
    """
    shape = getattr(model, "input_shape", None)
    if shape is None or len(shape) == 0:
        if x.ndim == 1:
            raise ShapeError(
                f"{owner}: {what} is 1-D (shape {x.shape}), but a batch with samples on the "
                f"first axis is expected: pass {what}.reshape(-1, 1) for {len(x)} samples of "
                f"one feature, or {what}[None] for one sample of {len(x)} features")
        return
    sample = tuple(shape[1:])
    fits = x.ndim == len(shape) and all(
        d is None or d == n for d, n in zip(sample, x.shape[1:]))
    if fits:
        return
    want = "(" + ", ".join(["n_samples", *("?" if d is None else str(d) for d in sample)]) + ")"
    hint = ""
    if x.ndim == len(sample) and all(d is None or d == n for d, n in zip(sample, x.shape)):
        hint = f"; it looks like one sample without its batch axis: pass {what}[None]"
    layers = getattr(model, "layers", None)
    first = f", the input of its first layer {layers[0].name!r}" if layers else ""
    raise ShapeError(f"{owner}: {what} has shape {x.shape}, but the model "
                     f"{getattr(model, 'name', '')!r} takes inputs of shape {want}{first}"
                     f"{hint}")


def split_validation(x, y, fraction: float):
    """Keras's rule: the LAST ``fraction`` of the samples, taken before any shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
    n = len(x)
    cut = int(n * (1.0 - fraction))
    if cut == 0 or cut == n:
        raise ValueError(f"validation_split={fraction} of {n} samples leaves an empty "
                         "training or validation set")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def batches(n: int, batch_size: int, order=None):
    """Yield index slices (or index arrays when ``order`` is given) of at most batch_size."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def to_model_device(a, dev):
    """A batch (an array, several inputs' arrays, or None) on the device ``dev`` of a model.

    ``backend.to_device`` for each array; a NumPy array for a CPU model is returned as it is
    (no call, no copy), so the CPU training loop pays nothing for this.
    """
    if a is None or (type(a) is np.ndarray and dev.type == "cpu"):
        return a
    arrays = getattr(a, "arrays", None)  # several inputs or outputs (models.multi_io)
    if isinstance(arrays, list):
        return type(a)([backend.to_device(b, dev) for b in arrays])
    return backend.to_device(a, dev)


def beside(a, pred):
    """``a`` (labels or weights, or None) on the device of the array ``pred``: a no-op for
    NumPy predictions and for predictions that are not one array (several outputs)."""
    if a is None or type(pred) is np.ndarray or not backend.is_array(pred):
        return a
    return to_model_device(a, backend.device_of(pred))
