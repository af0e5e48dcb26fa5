"""scikit-learn's 8x8 handwritten digits: 1,797 images shipped inside scikit-learn.

The small real data set for runs with no data at hand: it needs no network and no files, only
scikit-learn (an optional dependency: ``pip install tidu[digits]``). Pixels are 0..16.
"""

from __future__ import annotations

import numpy as np

from .. import random as _random


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("tidu.datasets.digits needs scikit-learn, which ships the data: "
                          "pip install scikit-learn (or pip install tidu[digits])") from e
    return load_digits()


def load_data(test_split: float = 0.2, seed: int | None = 0
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the 8x8 digits split into training and test sets.

    The split is stratified: each digit's images are permuted with a generator seeded by
    ``seed`` and the first ``round(test_split * count)`` go to the test set; both sets are then
    shuffled. The same ``seed`` always gives the same split.

    Args:
        test_split: fraction of each digit's images held out for testing, in [0, 1).
        seed: seed of the split; None draws from tidu's global generator (``tidu.manual_seed``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images float32 of shape (n, 8, 8) with
        values 0..16, labels int64 of shape (n,) with values 0..9.

    Raises:
        ValueError: ``test_split`` is outside [0, 1).
        ImportError: scikit-learn is not installed.
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.floating)) \
            or not 0.0 <= test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be a number in [0, 1), "
                         f"received {test_split!r}")
    bunch = _load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    rng = _random.generator(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_split * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    return (images[train], labels[train]), (images[test], labels[test])
