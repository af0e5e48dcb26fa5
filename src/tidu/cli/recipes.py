"""The named models (recipes) and data sets that ``tidu train`` knows.

A recipe builds and compiles a model for a given number of input features and classes, with
its source text's defaults (optimizer, learning rate, epochs, batch size). A data set is loaded
into float32 samples of one flat row each, scaled to [0, 1], with integer class labels; the
recipe then encodes the labels for its loss (one-hot, or 0/1 for a binary recipe).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._common import CLIError, UsageError


@dataclass(frozen=True)
class Recipe:
    """A named model with the training defaults of the text it comes from."""

    name: str
    description: str
    layers: Callable[[int, int], list]  # (features, classes) -> layers
    loss: str
    optimizer: str
    learning_rate: float | None  # None: the optimizer's Keras default
    epochs: int
    batch_size: int | None  # None: the whole training set in one batch
    binary: bool = False  # one sigmoid output trained on 0/1 labels
    elsewhere: dict = field(default_factory=dict)  # epochs / learning_rate on other data
    home: tuple = ()  # the data sets the text's hyperparameters are tuned for

    def defaults(self, data: str) -> tuple[int, float | None]:
        """(epochs, learning rate) for ``data``: the text's on its home data sets, else the
        ``elsewhere`` values when the recipe has them."""
        if not self.home or data in self.home:
            return self.epochs, self.learning_rate
        return (self.elsewhere.get("epochs", self.epochs),
                self.elsewhere.get("learning_rate", self.learning_rate))

    def build(self, features: int, classes: int, optimizer: str | None = None,
              learning_rate: float | None = None):
        """The compiled model for ``features`` inputs and ``classes`` classes; ``optimizer``
        and ``learning_rate`` replace the recipe's (a new optimizer starts from its Keras
        default learning rate)."""
        import tidu

        model = tidu.Sequential(self.layers(features, classes))
        lr = learning_rate
        if lr is None and optimizer in (None, self.optimizer):
            lr = self.learning_rate
        config = {} if lr is None else {"learning_rate": float(lr)}
        opt = tidu.optim.get({"class_name": optimizer or self.optimizer, "config": config})
        model.compile(optimizer=opt, loss=self.loss, metrics=["accuracy"])
        return model

    def encode(self, y: np.ndarray, classes: int) -> np.ndarray:
        """Integer labels in the form this recipe's loss takes."""
        if self.binary:
            return y.reshape(-1, 1).astype(np.float32)
        from tidu.datasets import to_categorical

        return to_categorical(y, classes)


def _text_b(features: int, classes: int) -> list:
    from tidu.nn import Dense

    return [Dense(512, activation="relu", input_shape=(features,)),
            Dense(classes, activation="softmax")]


def _text_a(features: int, classes: int) -> list:
    from tidu.nn import Dense

    return [Dense(1, activation="sigmoid", kernel_initializer="zeros",
                  input_shape=(features,))]


def _softmax(features: int, classes: int) -> list:
    from tidu.nn import Dense

    return [Dense(classes, activation="softmax", kernel_initializer="zeros",
                  input_shape=(features,))]


def _mlp(features: int, classes: int) -> list:
    from tidu.nn import Dense, Dropout

    return [Dense(128, activation="relu", input_shape=(features,)), Dropout(0.2),
            Dense(64, activation="relu"), Dense(classes, activation="softmax")]


RECIPES = {r.name: r for r in [
    Recipe("text-b", "Text B's network: Dense(512, relu) -> Dense(classes, softmax), RMSprop, "
           "categorical cross-entropy, batch 128; the text's 5 epochs on mnist and "
           "fashion-mnist, elsewhere 20", _text_b, "categorical_crossentropy", "rmsprop", None,
           epochs=5, batch_size=128, elsewhere={"epochs": 20},
           home=("mnist", "fashion-mnist")),
    Recipe("text-a", "Text A's logistic regression: one sigmoid unit from zeros, full-batch "
           "gradient descent, binary cross-entropy; on catvnoncat the text's 2000 steps of "
           "learning rate 0.005 (tuned for 12,288 pixels), elsewhere 200 steps of 0.5",
           _text_a, "binary_crossentropy", "sgd", 0.005, epochs=2000, batch_size=None,
           binary=True, elsewhere={"epochs": 200, "learning_rate": 0.5}, home=("catvnoncat",)),
    Recipe("softmax", "multinomial logistic regression: Dense(classes, softmax) from zeros, "
           "SGD 0.1, batch 64", _softmax, "categorical_crossentropy", "sgd", 0.1, epochs=20,
           batch_size=64),
    Recipe("mlp", "a small MLP: Dense(128, relu) -> Dropout(0.2) -> Dense(64, relu) -> "
           "Dense(classes, softmax), Adam, batch 64", _mlp, "categorical_crossentropy", "adam",
           None, epochs=10, batch_size=64),
]}


@dataclass
class Data:
    """A data set ready for a recipe: flat float32 rows in [0, 1] and integer labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: list = field(default_factory=list)
    image_shape: tuple | None = None  # (height, width, channels) of one sample, if images

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def classes(self) -> int:
        if self.class_names:
            return len(self.class_names)
        ys = [self.y_train] + ([self.y_test] if self.y_test is not None else [])
        return int(max(int(y.max()) for y in ys)) + 1


DATASETS = {
    "digits": "scikit-learn's 1,797 8x8 handwritten digits (embedded: no download)",
    "mnist": "MNIST, 70,000 28x28 handwritten digits (downloaded once, checksummed)",
    "fashion-mnist": "Fashion-MNIST, 70,000 28x28 clothing images (downloaded once)",
    "catvnoncat": "Text A's 259 64x64 RGB cat / non-cat images (downloaded once; needs h5py)",
}


def _flat(x: np.ndarray, scale: float) -> np.ndarray:
    return (x.reshape(len(x), -1).astype(np.float32) / np.float32(scale))


def _folder(data_dir: str | None, name: str):
    return None if data_dir is None else Path(data_dir) / name


def load_data(name: str, data_dir: str | None = None) -> Data:
    """A named data set (see :data:`DATASETS`) or an ``.npz`` file with ``x`` and ``y``.

    Args:
        name: 'digits', 'mnist', 'fashion-mnist', 'catvnoncat' or the path of an ``.npz``.
        data_dir: a folder holding one folder per data set (``mnist/``, ...); None lets the
            loaders look in ``$TIDU_DATASETS`` and their download cache.
    """
    from tidu import datasets

    if name == "digits":
        (xt, yt), (xs, ys) = datasets.digits.load_data()
        return Data(name, _flat(xt, 16), yt, _flat(xs, 16), ys,
                    [str(i) for i in range(10)], (8, 8, 1))
    if name in ("mnist", "fashion-mnist"):
        loader = datasets.mnist if name == "mnist" else datasets.fashion_mnist
        (xt, yt), (xs, ys) = loader.load_data(_folder(data_dir, name))
        names = (list(datasets.fashion_mnist.CLASSES) if name == "fashion-mnist"
                 else [str(i) for i in range(10)])
        return Data(name, _flat(xt, 255), yt.astype(np.int64), _flat(xs, 255),
                    ys.astype(np.int64), names, (28, 28, 1))
    if name == "catvnoncat":
        (xt, yt), (xs, ys), names = datasets.catvnoncat.load_data(_folder(data_dir, name))
        return Data(name, _flat(xt, 255), yt, _flat(xs, 255), ys, list(names), (64, 64, 3))
    if name.endswith(".npz") or os.path.isfile(name):
        return load_npz(name)
    raise UsageError(f"--data: unknown data set {name!r}; expected one of "
                     f"{', '.join(DATASETS)} or the path of an .npz file with x and y")


def load_npz(path: str) -> Data:
    """``x`` (samples first) and integer labels ``y``, optionally ``x_test`` and ``y_test``.

    Integer images (uint8) are scaled by 1/255; floating ones are taken as they are.
    """
    if not os.path.isfile(path):
        raise CLIError(f"--data: the file {path!r} does not exist")
    try:
        f = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise CLIError(f"{path}: not a NumPy .npz file ({e})") from e
    if isinstance(f, np.ndarray):
        raise CLIError(f"{path}: a single .npy array; training needs an .npz with arrays x "
                       "and y (np.savez(path, x=x, y=y))")
    with f:
        missing = [k for k in ("x", "y") if k not in f.files]
        if missing:
            raise CLIError(f"{path}: needs arrays 'x' and 'y', missing {missing}; it holds "
                           f"{f.files}")
        try:
            arrays = {k: f[k] for k in ("x", "y", "x_test", "y_test") if k in f.files}
        except ValueError as e:
            raise CLIError(f"{path}: an array cannot be read without pickle ({e})") from e
    x, y = arrays["x"], arrays["y"]
    xs, ys = arrays.get("x_test"), arrays.get("y_test")
    if (xs is None) != (ys is None):
        raise CLIError(f"{path}: has one of x_test and y_test but not the other")
    for kx, ky, a, b in (("x", "y", x, y), ("x_test", "y_test", xs, ys)):
        if a is None:
            continue
        if a.ndim < 2 or len(a) != len(b) or len(a) == 0:
            raise CLIError(f"{path}: {kx} must be samples first with at least 2 axes and as "
                           f"many samples as {ky}; got {kx} {a.shape} and {ky} {b.shape}")
        if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise CLIError(f"{path}: {kx} must be numbers, got dtype {a.dtype}")
    if xs is not None and xs.shape[1:] != x.shape[1:]:
        raise CLIError(f"{path}: x_test samples {xs.shape[1:]} differ from x's {x.shape[1:]}")
    y, ys = _labels(path, "y", y), (None if ys is None else _labels(path, "y_test", ys))
    scale = 255 if np.issubdtype(x.dtype, np.integer) else 1
    shape = tuple(x.shape[1:])
    image_shape = (shape + (1,) if len(shape) == 2 else shape if len(shape) == 3 else None)
    return Data(os.path.basename(path), _flat(x, scale), y,
                None if xs is None else _flat(xs, scale), ys, [], image_shape)


def _labels(path: str, key: str, y: np.ndarray) -> np.ndarray:
    """Integer class labels from integer labels, (n, 1) labels or one-hot rows."""
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(len(y), -1)
    if y.shape[1] != 1:
        raise CLIError(f"{path}: {key} must hold one class label per sample, got shape "
                       f"{y.shape}")
    y = y[:, 0]
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(y == np.round(y)):
            raise CLIError(f"{path}: {key} must be integer class labels 0, 1, ..., got "
                           f"dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise CLIError(f"{path}: {key} has a negative label {int(y.min())}; labels are "
                       "0, 1, ...")
    return y


def binary_labels(data: Data, positive: int | None) -> tuple[Data, int | None]:
    """Labels 0/1 for a binary recipe: ``positive`` against the rest when there are more than
    two classes (default 0); data with two classes is kept as it is."""
    if data.classes <= 2 and positive is None:
        return data, None
    positive = 0 if positive is None else positive
    if not 0 <= positive < data.classes:
        raise UsageError(f"--positive-class {positive}: {data.name} has classes 0 to "
                         f"{data.classes - 1}")
    name = data.class_names[positive] if data.class_names else str(positive)
    out = Data(data.name, data.x_train, (data.y_train == positive).astype(np.int64),
               data.x_test, None if data.y_test is None else
               (data.y_test == positive).astype(np.int64), [f"not {name}", name],
               data.image_shape)
    return out, positive
