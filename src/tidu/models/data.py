"""Turning user data into batches: conversion, validation split, shuffling."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor


def to_array(x, what: str):
    """A NumPy array from an array, Tensor or list; float64 becomes tidu's default float."""
    if x is None:
        raise ValueError(f"{what} is None: pass a NumPy array")
    if isinstance(x, Tensor):
        x = x.data
    x = np.asarray(x)
    if x.dtype == np.float64:
        x = x.astype(backend.default_float)
    return x


def check_pair(x, y, what: str = "x and y") -> None:
    if y is not None and len(x) != len(y):
        raise ValueError(f"{what} must have the same number of samples (first axis): "
                         f"got {len(x)} and {len(y)}")


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
