"""Text A, exercise 2: logistic regression as a single neuron on cat vs non-cat.

Written as the text writes it: initialize_with_zeros / propagate / optimize / predict / model,
except that tidu computes the gradients (tidu.grad) instead of hand-derived formulas.
Shapes follow the text: X is (features, examples) = (12288, m), w is (12288, 1).

Run: python examples/text_a_logistic_regression.py [--data DIR] [--iterations 2000]
"""

from __future__ import annotations

import numpy as np
from _common import data_root, parser

import tidu


def initialize_with_zeros(dim: int):
    """w of zeros (dim, 1) and b = 0, both differentiable (float64, as the text's NumPy)."""
    w = tidu.zeros(dim, 1, dtype="float64", requires_grad=True)
    b = tidu.tensor(0.0, dtype="float64", requires_grad=True)
    return w, b


def propagate(w, b, X, Y):
    """Forward: A = sigmoid(w^T X + b) and the cost J; backward: dJ/dw and dJ/db by autodiff."""
    m = X.shape[1]
    A = tidu.sigmoid(w.T @ X + b)
    cost = -(Y * tidu.log(A) + (1 - Y) * tidu.log(1 - A)).sum() / m
    dw, db = tidu.grad(cost, [w, b])
    return {"dw": dw.numpy(), "db": db.numpy()}, float(cost.item())


def optimize(w, b, X, Y, num_iterations, learning_rate, print_cost=False):
    """Gradient descent: w := w - alpha dw, b := b - alpha db; the cost every 100 steps."""
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w.data -= learning_rate * grads["dw"]
        b.data -= learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return w, b, costs


def predict(w, b, X):
    """1 where sigmoid(w^T X + b) > 0.5, else 0; shape (1, m)."""
    with tidu.no_grad():
        A = tidu.sigmoid(w.T @ X + b)
    return (A.numpy() > 0.5).astype(np.float64)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
          print_cost=False):
    w, b = initialize_with_zeros(X_train.shape[0])
    w, b, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)
    train_acc = 100 - np.mean(np.abs(predict(w, b, X_train) - Y_train)) * 100
    test_acc = 100 - np.mean(np.abs(predict(w, b, X_test) - Y_test)) * 100
    print(f"train accuracy: {train_acc:g} %")
    print(f"test accuracy: {test_acc:g} %")
    return {"costs": costs, "w": w, "b": b, "train_accuracy": train_acc,
            "test_accuracy": test_acc}


def load(root):
    """The text's preprocessing: flatten to (12288, m) and divide by 255."""
    path = None if root is None else root / "catvnoncat"
    (x_train, y_train), (x_test, y_test), classes = tidu.datasets.catvnoncat.load_data(path)
    X_train = x_train.reshape(x_train.shape[0], -1).T / 255.0
    X_test = x_test.reshape(x_test.shape[0], -1).T / 255.0
    return X_train, y_train.reshape(1, -1), X_test, y_test.reshape(1, -1)


def main(argv=None):
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--learning-rate", type=float, default=0.005)
    args = ap.parse_args(argv)
    X_train, Y_train, X_test, Y_test = load(data_root(args.data))
    print(f"train X {X_train.shape}, test X {X_test.shape}")
    return model(X_train, Y_train, X_test, Y_test, args.iterations, args.learning_rate,
                 print_cost=True)


if __name__ == "__main__":
    main()
