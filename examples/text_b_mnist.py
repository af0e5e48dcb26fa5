"""Text B: the Keras MNIST program, line for line in tidu.

Dense(512, relu) -> Dense(10, softmax), RMSprop, categorical cross-entropy, 5 epochs of batch
128 (469 updates per epoch, 2,345 in all), then evaluate on the 10,000 test images.

Run: python examples/text_b_mnist.py [--data DIR] [--dataset mnist|fashion_mnist]
"""

from __future__ import annotations

import time

from _common import data_root, parser

import tidu
from tidu import datasets
from tidu.datasets import to_categorical
from tidu.nn import Dense


def main(argv=None):
    ap = parser(__doc__.split("\n")[0], epochs=5)
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    args = ap.parse_args(argv)
    tidu.manual_seed(args.seed)
    root = data_root(args.data)
    folder = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}[args.dataset]
    loader = getattr(datasets, args.dataset)

    (train_images, train_labels), (test_images, test_labels) = loader.load_data(
        None if root is None else root / folder)
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]

    network = tidu.Sequential()
    network.add(Dense(512, activation="relu", input_shape=(28 * 28,)))
    network.add(Dense(10, activation="softmax"))
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                    metrics=["accuracy"])

    train_images = train_images.reshape((len(train_images), 28 * 28))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((10000, 28 * 28))
    test_images = test_images.astype("float32") / 255

    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    t0 = time.perf_counter()
    network.fit(train_images, train_labels, epochs=args.epochs, batch_size=128,
                verbose=args.verbose)
    seconds = time.perf_counter() - t0
    test_loss, test_acc = network.evaluate(test_images, test_labels)
    print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")
    print(f"training: {seconds:.1f} s, {seconds / args.epochs:.2f} s per epoch "
          f"({len(train_images)} images)")
    return {"test_loss": test_loss, "test_acc": test_acc, "seconds_per_epoch":
            seconds / args.epochs}


if __name__ == "__main__":
    main()
