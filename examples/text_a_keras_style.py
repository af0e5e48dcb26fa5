"""Text A's logistic regression again, Keras-style: one Dense(1, sigmoid) unit, zero
initialization, full-batch gradient descent (2000 iterations, learning rate 0.005).

Keras lays data out as (examples, features), so X is (m, 12288) here. One epoch with
batch_size = m is one gradient-descent iteration of the text.

Run: python examples/text_a_keras_style.py [--data DIR] [--iterations 2000]
"""

from __future__ import annotations

import numpy as np
from _common import data_root, parser

import tidu
from tidu.callbacks import LambdaCallback
from tidu.nn import Dense


def main(argv=None):
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--learning-rate", type=float, default=0.005)
    args = ap.parse_args(argv)
    root = data_root(args.data)
    (x_train, y_train), (x_test, y_test), classes = tidu.datasets.catvnoncat.load_data(
        None if root is None else root / "catvnoncat")
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    y_train = y_train.reshape(-1, 1).astype("float32")
    y_test = y_test.reshape(-1, 1).astype("float32")

    model = tidu.Sequential([
        Dense(1, activation="sigmoid", kernel_initializer="zeros", input_shape=(12288,)),
    ])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=args.learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    costs = []

    def every_100(epoch, logs):
        # logs hold the cost measured during the step, before that step's update (as the text)
        if epoch % 100 == 0:
            costs.append(logs["loss"])
            print(f"Cost after iteration {epoch}: {logs['loss']:f}")

    model.fit(x_train, y_train, epochs=args.iterations, batch_size=len(x_train),
              shuffle=False, verbose=0, callbacks=[LambdaCallback(on_epoch_end=every_100)])
    train_acc = model.evaluate(x_train, y_train, return_dict=True)["accuracy"] * 100
    test_acc = model.evaluate(x_test, y_test, return_dict=True)["accuracy"] * 100
    print(f"train accuracy: {train_acc:g} %")
    print(f"test accuracy: {test_acc:g} %")
    print("classes:", classes, "- first test predictions:",
          np.round(model.predict(x_test[:5]).ravel(), 3))
    return {"costs": costs, "train_accuracy": train_acc, "test_accuracy": test_acc}


if __name__ == "__main__":
    main()
