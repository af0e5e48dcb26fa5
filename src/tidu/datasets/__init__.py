"""Data sets with Keras-style loaders, read from a folder or a verified download cache.

``mnist``, ``fashion_mnist`` and ``catvnoncat`` each have ``load_data(path=None)``; files are
taken from ``path``, else ``$TIDU_DATASETS/<name>``, else the cache ``$TIDU_CACHE/<name>``
(default ``~/.tidu/datasets/<name>``), downloaded from public mirrors when missing, and always
checked against their published SHA-256 before they are read. ``digits`` needs no files
(scikit-learn ships it). h5py and scikit-learn are imported only by the loaders that need them.
"""

from . import catvnoncat, digits, fashion_mnist, mnist
from ._download import ChecksumError, DownloadError
from .idx import read_idx
from .utils import to_categorical

__all__ = ["ChecksumError", "DownloadError", "catvnoncat", "digits", "fashion_mnist", "mnist",
           "read_idx", "to_categorical"]
