"""Fashion-MNIST (Zalando Research): 60,000 training and 10,000 test images of clothing.

Same format and sizes as MNIST: 28x28 grayscale uint8 images; labels 0 T-shirt/top, 1 Trouser,
2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot (``CLASSES``).
"""

from __future__ import annotations

import os

import numpy as np

from ._download import FileSpec
from .idx import load_mnist_format

NAME = "fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]
FILES = (
    FileSpec("train-images-idx3-ubyte.gz",
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    FileSpec("train-labels-idx1-ubyte.gz",
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    FileSpec("t10k-images-idx3-ubyte.gz",
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    FileSpec("t10k-labels-idx1-ubyte.gz",
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
)
# Base URLs tried in order; replace this list (or set $TIDU_DATASETS_MIRROR) to use others.
MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/"
    "b2617bb6d3ffa2e429640350f613e3291e10b141/data/fashion/",
]


def load_data(path: str | os.PathLike | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST in Keras's layout.

    Args:
        path: a folder holding the four ``.gz`` files. If None: ``$TIDU_DATASETS/fashion-mnist``
            when that variable is set, else the cache ``$TIDU_CACHE/fashion-mnist`` (default
            ``~/.tidu/datasets/fashion-mnist``), downloading missing files from ``MIRRORS``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,); label names are in ``CLASSES``.

    Raises:
        FileNotFoundError: a file is missing from ``path`` or ``$TIDU_DATASETS/fashion-mnist``.
        ChecksumError: a file is corrupt or truncated (it is never loaded).
        DownloadError: a missing file could not be downloaded.
    """
    return load_mnist_format(NAME, FILES, path, MIRRORS)
