"""Keras's "simple MNIST convnet" (keras.io/examples/vision/mnist_convnet), as written.

The program is Keras's; the only change is ``from tidu import keras``. Two 3x3 convolutions
(32 and 64 filters, ReLU), each followed by 2x2 max pooling, then Flatten, Dropout(0.5) and a
softmax Dense layer: 34,826 parameters. Adam, batch 128, 15 epochs, 10% of the training images
held out for validation. Keras reports about 99.1% test accuracy.

Run: python examples/mnist_convnet.py [--data DIR] [--epochs 15] [--limit N]
"""

from __future__ import annotations

import os
import time

import numpy as np
from _common import data_root, parser

from tidu import keras
from tidu.keras import layers


def build_model(input_shape=(28, 28, 1), num_classes: int = 10):
    """The convnet of Keras's example."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def main(argv=None):
    ap = parser(__doc__.split("\n")[0], epochs=15)
    args = ap.parse_args(argv)
    root = data_root(args.data)
    if root is not None:
        os.environ["TIDU_DATASETS"] = str(root)
    keras.utils.set_random_seed(args.seed)

    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = build_model(input_shape, num_classes)
    if args.verbose:
        model.summary()

    batch_size = 128
    epochs = args.epochs
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_split=0.1, verbose=args.verbose)
    seconds = time.perf_counter() - t0

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    print(f"training: {epochs} epochs, {seconds:.1f} s, {seconds / epochs:.2f} s per epoch")
    return {"test_loss": score[0], "test_acc": score[1], "model": model,
            "history": history.history, "seconds_per_epoch": seconds / epochs}


if __name__ == "__main__":
    main()
