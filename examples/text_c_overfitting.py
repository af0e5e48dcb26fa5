"""Text C: overfitting, L2 regularization and dropout; and why weights must not start at zero.

1. A wide MLP (784 -> 512 relu -> 10 softmax) trained for many epochs on a small MNIST subset,
   four ways: plain, with an L2 kernel penalty (Keras's l2 * sum(w^2), i.e. weight decay),
   with Dropout(0.5) after the hidden layer, and with both. To make the overfitting
   unmistakable, a fraction of the training labels (default 20%) is replaced by random digits:
   Text C's error = bias + variance + noise, and a network that memorizes those labels is
   fitting noise. The plain network memorizes them and its train-test gap is largest; L2 and
   dropout resist memorizing, shrink the gap and raise test accuracy (measured on the true
   test labels). ``--label-noise 0`` runs the clean case, where the effects are much smaller.
2. Zero initialization: with every weight 0, all hidden units compute the same function and
   receive the same gradient, so they stay identical forever (the network degenerates to one
   hidden unit); random N(0, 0.01) initialization, Text C's suggestion, breaks the symmetry.
   A sigmoid hidden layer is used so that the zero-initialized network still learns something
   (with ReLU or tanh every hidden output is 0 and no hidden weight ever moves).

Run: python examples/text_c_overfitting.py [--data DIR] [--train-size 1000] [--epochs 60]
"""

from __future__ import annotations

import numpy as np
from _common import data_root, parser

import tidu
from tidu import datasets
from tidu.nn import Dense, Dropout
from tidu.nn.regularizers import L2


def load(root, train_size: int, test_size: int):
    """The first ``train_size`` training and ``test_size`` test images, flattened, / 255."""
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(
        None if root is None else root / "mnist")
    x = x_train[:train_size].reshape(train_size, -1).astype(np.float32) / 255
    xt = x_test[:test_size].reshape(len(x_test[:test_size]), -1).astype(np.float32) / 255
    return (x, y_train[:train_size].astype(np.int64)), (xt, y_test[:test_size].astype(np.int64))


def corrupt(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Replace a random ``fraction`` of the labels by random digits (seeded); returns the new
    labels and the mask of the samples that were picked."""
    rng = np.random.default_rng(seed)
    picked = rng.random(len(y)) < fraction
    noisy = y.copy()
    noisy[picked] = rng.integers(0, 10, int(picked.sum()))
    return noisy, picked


def wide_mlp(width: int, l2: float, dropout: float, seed: int) -> tidu.Sequential:
    tidu.manual_seed(seed)
    reg = L2(l2) if l2 else None
    layers = [Dense(width, activation="relu", kernel_regularizer=reg, input_shape=(784,))]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(10, activation="softmax", kernel_regularizer=reg))
    return tidu.Sequential(layers)


def accuracy(model: tidu.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(x, batch_size=1000).argmax(1) == y))


def regularization(train, test, picked, args) -> dict:
    """Train the four variants; accuracies on the labels trained on and on the test set."""
    (x, y), (xt, yt) = train, test
    variants = {"plain": (0.0, 0.0), f"L2({args.l2:g})": (args.l2, 0.0),
                f"dropout({args.dropout:g})": (0.0, args.dropout),
                "L2 + dropout": (args.l2, args.dropout)}
    out = {}
    for name, (l2, rate) in variants.items():
        model = wide_mlp(args.width, l2, rate, args.seed)
        model.compile(optimizer=tidu.optim.SGD(learning_rate=args.learning_rate, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=0, seed=args.seed)
        pred = model.predict(x, batch_size=1000).argmax(1)
        train_acc, test_acc = float(np.mean(pred == y)), accuracy(model, xt, yt)
        memorized = float(np.mean(pred[picked] == y[picked])) if picked.any() else None
        out[name] = {"train_acc": train_acc, "test_acc": test_acc,
                     "gap": train_acc - test_acc, "memorized": memorized}
    return out


def hidden_symmetry(train, test, init: str, args) -> dict:
    """A 784 -> 32 sigmoid -> 10 MLP with all weights zero or N(0, 0.01): after training, how
    far apart are the hidden units' weight columns?"""
    (x, y), (xt, yt) = train, test
    initializer = "zeros" if init == "zeros" else tidu.initializers.RandomNormal(stddev=0.01)
    tidu.manual_seed(args.seed)
    model = tidu.Sequential([
        Dense(32, activation="sigmoid", kernel_initializer=initializer, input_shape=(784,)),
        Dense(10, activation="softmax", kernel_initializer=initializer)])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=args.symmetry_epochs, verbose=0, seed=args.seed)
    w = model.layers[0].kernel.numpy()
    scale = float(np.abs(w).max())
    # NOTE: in float32 the "identical" zero-init columns drift apart by rounding only (BLAS
    # may sum different columns in different orders), ~1e-5 of the weights' size; a unit
    # counts as distinct when it differs from every earlier one by more than 1e-3 of it.
    spread = float(np.abs(w - w[:, :1]).max()) / scale  # largest difference from unit 0
    kept: list[np.ndarray] = []
    for col in w.T:
        if all(np.abs(col - k).max() > 1e-3 * scale for k in kept):
            kept.append(col)
    return {"relative_spread": spread, "distinct_units": len(kept), "kernel_abs_max": scale,
            "test_acc": accuracy(model, xt, yt)}


def main(argv=None) -> dict:
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--train-size", type=int, default=1000)
    ap.add_argument("--test-size", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--learning-rate", type=float, default=0.01)
    ap.add_argument("--l2", type=float, default=0.005)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--label-noise", type=float, default=0.2,
                    help="fraction of training labels replaced by random digits")
    ap.add_argument("--symmetry-epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not 0.0 <= args.label_noise <= 1.0:
        raise ValueError(f"--label-noise must be in [0, 1], got {args.label_noise}")

    (x, y_true), test = load(data_root(args.data), args.train_size, args.test_size)
    y, picked = corrupt(y_true, args.label_noise, args.seed)
    train = (x, y)
    print(f"{len(x)} training images ({picked.sum()} labels randomized), {len(test[0])} test "
          f"images; 784-{args.width}-10 MLP, SGD({args.learning_rate:g}, momentum 0.9), "
          f"{args.epochs} epochs")
    res = regularization(train, test, picked, args)
    print(f"{'variant':<16} {'train acc':>9} {'test acc':>9} {'gap':>7} {'noisy labels fit':>17}")
    for name, r in res.items():
        mem = "-" if r["memorized"] is None else f"{r['memorized']:.1%}"
        print(f"{name:<16} {r['train_acc']:>9.1%} {r['test_acc']:>9.1%} {r['gap']:>7.1%} "
              f"{mem:>17}")

    sym = {init: hidden_symmetry(train, test, init, args) for init in ("zeros", "random")}
    print(f"\n784-32 sigmoid-10 MLP after {args.symmetry_epochs} epochs:")
    for init, r in sym.items():
        print(f"init {init:<7}: max |W[:, j] - W[:, 0]| / max |W| = {r['relative_spread']:.2g}"
              f", distinct hidden units {r['distinct_units']}/32, max |W| = "
              f"{r['kernel_abs_max']:.3g}, test acc {r['test_acc']:.1%}")
    return {"regularization": res, "symmetry": sym}


if __name__ == "__main__":
    main()
