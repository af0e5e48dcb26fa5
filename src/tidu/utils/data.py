"""Datasets and mini-batch loading, as ``torch.utils.data``.

A :class:`Dataset` answers ``len(ds)`` and ``ds[i]``; :class:`DataLoader` walks one in
batches, in order or shuffled, and joins the samples of a batch with ``collate_fn``
(:func:`default_collate` stacks arrays, Tensors and numbers into batched Tensors, through
tuples, lists and dicts). Shuffling draws from the ``generator`` given, or from tidu's global
generator (:func:`tidu.random.get_generator`), so ``tidu.manual_seed(n)`` reproduces it.

>>> import numpy as np, tidu
>>> from tidu.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [tuple(x.shape) for x, y in DataLoader(ds, batch_size=2)]
[(2, 2), (2, 2), (1, 2)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate",
           "random_split"]


class Dataset:
    """Base class: subclasses write ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(x, who: str, i: int):
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.ndim == 0:
        raise ValueError(f"{who}: tensor {i} is a scalar; every tensor needs a first "
                         "(sample) axis")
    return a


class TensorDataset(Dataset):
    """Samples ``i`` of several arrays or Tensors of equal first length: ``ds[i]`` is the
    tuple ``(t[i] for t in tensors)``.

    Raises:
        ValueError: no tensors, a scalar, or first dimensions that differ.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(_as_array(t, "TensorDataset", i) for i, t in enumerate(tensors))
        sizes = [int(t.shape[0]) for t in self.tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors need the same first dimension, got "
                             f"sizes {sizes}")

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[int(i)] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    Args:
        dataset: anything with ``len``.
        lengths: sizes that sum to ``len(dataset)``, or fractions that sum to 1 (the
            rounded-down sizes, with the remainder given one by one to the first subsets,
            as PyTorch).
        generator: a ``numpy.random.Generator``; tidu's global one by default.

    Raises:
        ValueError: the lengths do not add up, or are negative.
    """
    n = len(dataset)
    lengths = list(lengths)
    if any((isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
            or v < 0) for v in lengths):
        raise ValueError(f"random_split: lengths must be numbers >= 0, got {lengths}")
    if lengths and math.isclose(sum(lengths), 1.0) and sum(lengths) != n:
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        if any(int(v) != v for v in lengths) or sum(lengths) != n:
            raise ValueError(f"random_split: lengths must be ints summing to the dataset's "
                             f"length {n}, or fractions summing to 1; got {lengths}")
        sizes = [int(v) for v in lengths]
    gen = _random.get_generator() if generator is None else generator
    perm = gen.permutation(n)
    out, start = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[start:start + s].tolist()))
        start += s
    return out


def default_collate(batch: list):
    """Join a list of samples into a batch: arrays, Tensors and numbers are stacked into one
    Tensor (a new first axis); tuples and lists are collated position by position, dicts
    key by key; strings are kept as a list.

    Raises:
        TypeError: a sample of a kind it cannot join (the message names the type).
    """
    first = batch[0]
    if isinstance(first, Tensor) or isinstance(first, (np.ndarray, np.generic, int, float,
                                                       bool)):
        return Tensor(np.stack([x.data if isinstance(x, Tensor) else np.asarray(x)
                                for x in batch]))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in batch):
            raise ValueError("default_collate: the samples of a batch have different lengths "
                             f"({sorted({len(s) for s in batch})})")
        cols = [default_collate(list(col)) for col in zip(*batch)]
        return type(first)(*cols) if hasattr(first, "_fields") else type(first)(cols)
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "expected arrays, Tensors, numbers, strings, or tuples/lists/dicts of them "
                    "(or pass collate_fn=...)")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a :class:`Dataset` (anything with ``len`` and ``[i]``).
        batch_size: samples per batch (>= 1).
        shuffle: a new random order every epoch (every ``iter``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: joins a list of samples into a batch (default :func:`default_collate`).
        generator: a ``numpy.random.Generator`` for shuffling; tidu's global one by default.

    A :class:`TensorDataset` is batched by indexing its tensors with the batch's indices
    (one fancy-index per tensor, not one per sample) when ``collate_fn`` is the default.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable | None = None,
                 generator: np.random.Generator | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be an int >= 1, got {batch_size!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError("DataLoader: generator must be a numpy.random.Generator (e.g. "
                            f"np.random.default_rng(0)), got {type(generator).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        gen = _random.get_generator() if self.generator is None else self.generator
        return gen.permutation(n)

    def __iter__(self) -> Iterator:
        order, bs = self._order(), self.batch_size
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, len(order), bs):
            idx = order[start:start + bs]
            if self.drop_last and len(idx) < bs:
                return
            if fast:
                yield tuple(Tensor(t.data[idx] if isinstance(t, Tensor) else t[idx])
                            for t in self.dataset.tensors)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])
