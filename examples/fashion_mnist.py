"""Fashion-MNIST with Text B's network: Dense(512, relu) -> Dense(10, softmax), RMSprop,
categorical cross-entropy, batch 128, on Zalando's clothing images.

Clothes are harder than digits, and RMSprop at a fixed rate wobbles by a point or more from one
epoch to the next here, so this version holds out the last 10% of the training images for
validation, lowers the learning rate when the validation loss stalls (ReduceLROnPlateau) and
stops when it stops improving, restoring the best epoch's weights (EarlyStopping). The test
images are used once, at the end.

Run: python examples/fashion_mnist.py [--data DIR] [--epochs 20]
"""

from __future__ import annotations

import time

from _common import data_root, parser

import tidu
from tidu.callbacks import EarlyStopping, ReduceLROnPlateau
from tidu.datasets import fashion_mnist, to_categorical
from tidu.nn import Dense


def main(argv=None):
    ap = parser(__doc__.split("\n")[0], epochs=20)
    args = ap.parse_args(argv)
    tidu.manual_seed(args.seed)
    root = data_root(args.data)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(
        None if root is None else root / "fashion-mnist")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_train = x_train.reshape((len(x_train), 28 * 28)).astype("float32") / 255
    x_test = x_test.reshape((len(x_test), 28 * 28)).astype("float32") / 255
    y_train, y_test = to_categorical(y_train), to_categorical(y_test)

    network = tidu.Sequential([
        Dense(512, activation="relu", input_shape=(28 * 28,)),
        Dense(10, activation="softmax"),
    ])
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    callbacks = [ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=1),
                 EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)]
    t0 = time.perf_counter()
    history = network.fit(x_train, y_train, epochs=args.epochs, batch_size=128,
                          validation_split=0.1, callbacks=callbacks, verbose=args.verbose)
    seconds = time.perf_counter() - t0
    epochs = len(history.history["loss"])
    test_loss, test_acc = network.evaluate(x_test, y_test)
    print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")
    print(f"training: {epochs} epochs, {seconds:.1f} s, {seconds / epochs:.2f} s per epoch")
    return {"test_loss": test_loss, "test_acc": test_acc, "epochs": epochs}


if __name__ == "__main__":
    main()
