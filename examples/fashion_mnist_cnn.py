"""A Fashion-MNIST convnet with batch normalization.

Two blocks of 3x3 convolution -> BatchNormalization -> ReLU -> 2x2 max pooling (32 then 64
filters), then Flatten, Dropout(0.4), Dense(128) -> BatchNormalization -> ReLU, Dropout(0.4)
and a softmax Dense layer. Adam, batch 128, 10% of the training images held out for
validation; the learning rate drops when the validation loss stalls. Batch normalization
uses the batch's statistics while training and its moving averages (Keras's momentum 0.99)
when evaluating. Text B's dense network reaches about 89% on these clothes.

Run: python examples/fashion_mnist_cnn.py [--data DIR] [--epochs 12] [--limit N]
     [--bn-momentum 0.99]
"""

from __future__ import annotations

import time

import numpy as np
from _common import data_root, parser

from tidu import keras
from tidu.datasets import fashion_mnist
from tidu.keras import layers


def block(filters: int, momentum: float) -> list:
    """conv -> batch norm -> relu -> 2x2 max pooling (the conv needs no bias: BN has one)."""
    return [layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=momentum), layers.Activation("relu"),
            layers.MaxPooling2D(2)]


def build_model(momentum: float = 0.99):
    """The network: 2 convolutional blocks and a batch-normalized dense head.

    ``momentum`` is batch normalization's (Keras's 0.99): the moving statistics cover
    1 - momentum**steps of the way from their initial values, so a run of a few dozen steps
    on a subset needs a lower one (0.9) before inference mode can use them.
    """
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        *block(32, momentum),
        *block(64, momentum),
        layers.Flatten(),
        layers.Dropout(0.4),
        layers.Dense(128, use_bias=False),
        layers.BatchNormalization(momentum=momentum),
        layers.Activation("relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    ap = parser(__doc__.split("\n")[0], epochs=12)
    ap.add_argument("--bn-momentum", type=float, default=0.99,
                    help="batch normalization's momentum (Keras's 0.99; 0.9 for short runs)")
    args = ap.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    root = data_root(args.data)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(
        None if root is None else root / "fashion-mnist")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)

    model = build_model(args.bn_momentum)
    if args.verbose:
        model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3,
                                                   patience=1)]
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=128, epochs=args.epochs,
                        validation_split=0.1, callbacks=callbacks, verbose=args.verbose)
    seconds = time.perf_counter() - t0
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")
    print(f"training: {args.epochs} epochs, {seconds:.1f} s, "
          f"{seconds / args.epochs:.2f} s per epoch")
    return {"test_loss": test_loss, "test_acc": test_acc, "model": model,
            "history": history.history}


if __name__ == "__main__":
    main()
