"""PyTorch-style utilities: :mod:`tidu.utils.data` (datasets, loaders, splits)."""

from . import data

__all__ = ["data"]
