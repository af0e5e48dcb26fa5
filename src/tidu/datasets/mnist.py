"""MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test images.

Images are 28x28 grayscale, uint8 0-255 (0 = background); labels are the digits 0-9. Read from
the four published gzip-compressed IDX files, each checked against its published SHA-256.
"""

from __future__ import annotations

import os

import numpy as np

from ._download import FileSpec
from .idx import load_mnist_format

NAME = "mnist"
FILES = (
    FileSpec("train-images-idx3-ubyte.gz",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    FileSpec("train-labels-idx1-ubyte.gz",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    FileSpec("t10k-images-idx3-ubyte.gz",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    FileSpec("t10k-labels-idx1-ubyte.gz",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
)
# Base URLs tried in order; replace this list (or set $TIDU_DATASETS_MIRROR) to use others.
MIRRORS = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
]


def load_data(path: str | os.PathLike | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST in Keras's layout.

    Args:
        path: a folder holding the four ``.gz`` files. If None: ``$TIDU_DATASETS/mnist`` when
            that variable is set, else the cache ``$TIDU_CACHE/mnist`` (default
            ``~/.tidu/datasets/mnist``), downloading missing files from ``MIRRORS``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,).

    Raises:
        FileNotFoundError: a file is missing from ``path`` or ``$TIDU_DATASETS/mnist``.
        ChecksumError: a file is corrupt or truncated (it is never loaded).
        DownloadError: a missing file could not be downloaded.
    """
    return load_mnist_format(NAME, FILES, path, MIRRORS)
