"""The "cat vs non-cat" images of deeplearning.ai's logistic-regression assignment.

209 training and 50 test RGB images, 64x64x3 uint8, labelled 1 (cat) or 0 (non-cat), stored in
two HDF5 files read with h5py (an optional dependency: ``pip install tidu[hdf5]``):

========================  =============  ======  ===================
file                      dataset        dtype   shape
========================  =============  ======  ===================
train_catvnoncat.h5       train_set_x    uint8   (209, 64, 64, 3)
                          train_set_y    int64   (209,)
                          list_classes   S7      (2,) non-cat, cat
test_catvnoncat.h5        test_set_x     uint8   (50, 64, 64, 3)
                          test_set_y     int64   (50,)
========================  =============  ======  ===================

Unlike the course's loader, labels come back as 1-D arrays, not reshaped to (1, m).
"""

from __future__ import annotations

import os

import numpy as np

from ._download import FileSpec, locate

NAME = "catvnoncat"
FILES = (
    FileSpec("train_catvnoncat.h5",
             "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242", 2572022),
    FileSpec("test_catvnoncat.h5",
             "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951", 616958),
)
# Public copies of the course files (pinned commits); replace this list (or set
# $TIDU_DATASETS_MIRROR) to use others.
MIRRORS = [
    "https://github.com/Hiren2002/Logistic-Regression/raw/"
    "a6139a838a0e624f4ab923377df0c5d3386fdf1f/datasets/",
    "https://github.com/ramakris/coursera-deeplearning/raw/"
    "c79617ebb9ff38e765e821f80352adee93f19357/neuralnetworks/week2/datasets/",
]


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("tidu.datasets.catvnoncat needs h5py to read its HDF5 files: "
                          "pip install h5py (or pip install tidu[hdf5])") from e
    return h5py


def _read(h5py, path, prefix: str):
    with h5py.File(path, "r") as f:
        keys = (f"{prefix}_set_x", f"{prefix}_set_y", "list_classes")
        missing = [k for k in keys if k not in f]
        if missing:
            raise ValueError(f"{path}: missing HDF5 dataset(s) {missing}; found {sorted(f)}")
        x = np.asarray(f[keys[0]][()], dtype=np.uint8)
        y = np.asarray(f[keys[1]][()], dtype=np.int64).reshape(-1)
        classes = [c.decode("utf-8") if isinstance(c, bytes) else str(c)
                   for c in f["list_classes"][()]]
    if x.shape[1:] != (64, 64, 3) or len(x) != len(y):
        raise ValueError(f"{path}: expected images (m, 64, 64, 3) and m labels, found "
                         f"{x.shape} and {y.shape}")
    return x, y, classes


def load_data(path: str | os.PathLike | None = None):
    """Load the cat vs non-cat images.

    Args:
        path: a folder holding ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``. If None:
            ``$TIDU_DATASETS/catvnoncat`` when that variable is set, else the cache
            ``$TIDU_CACHE/catvnoncat`` (default ``~/.tidu/datasets/catvnoncat``), downloading
            missing files from ``MIRRORS``.

    Returns:
        ``((x_train, y_train), (x_test, y_test), classes)``: x_train uint8 (209, 64, 64, 3),
        y_train int64 (209,), x_test uint8 (50, 64, 64, 3), y_test int64 (50,) with 1 = cat,
        0 = non-cat, and ``classes == ['non-cat', 'cat']`` (the label's names, as str).

    Raises:
        ImportError: h5py is not installed.
        FileNotFoundError: a file is missing from ``path`` or ``$TIDU_DATASETS/catvnoncat``.
        ChecksumError: a file is corrupt or truncated (it is never loaded).
        DownloadError: a missing file could not be downloaded.
    """
    h5py = _h5py()
    found = locate(NAME, FILES, path, MIRRORS)
    x_train, y_train, classes = _read(h5py, found[FILES[0].name], "train")
    x_test, y_test, _ = _read(h5py, found[FILES[1].name], "test")
    return (x_train, y_train), (x_test, y_test), classes
