"""``keras.datasets``: ``mnist.load_data()`` and ``fashion_mnist.load_data()`` (tidu's
loaders: a folder, ``$TIDU_DATASETS``, or a checksummed download cache)."""

from ..datasets import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]
