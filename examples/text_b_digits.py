"""Text B's network trained on the small digits set that ships inside scikit-learn.

No download and no data folder needed: 1,797 real handwritten digits of 8x8 pixels. The same
program as the MNIST one (Dense(512, relu) -> Dense(10, softmax), RMSprop, categorical
cross-entropy, batch 128), with inputs of 64 pixels instead of 784.

Run: python examples/text_b_digits.py
"""

from __future__ import annotations

import argparse

import tidu
from tidu.datasets import digits, to_categorical
from tidu.nn import Dense


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    tidu.manual_seed(args.seed)

    (train_images, train_labels), (test_images, test_labels) = digits.load_data()
    train_images = train_images.reshape((len(train_images), 64)).astype("float32") / 16
    test_images = test_images.reshape((len(test_images), 64)).astype("float32") / 16
    train_labels, test_labels = to_categorical(train_labels), to_categorical(test_labels)

    network = tidu.Sequential([
        Dense(512, activation="relu", input_shape=(64,)),
        Dense(10, activation="softmax"),
    ])
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    network.summary()
    network.fit(train_images, train_labels, epochs=args.epochs, batch_size=128, verbose=2)
    test_loss, test_acc = network.evaluate(test_images, test_labels)
    print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")
    return {"test_loss": test_loss, "test_acc": test_acc}


if __name__ == "__main__":
    main()
