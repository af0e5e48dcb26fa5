"""Text C: the perceptron learns AND and OR but not XOR (Minsky 1969); an MLP learns XOR.

The perceptron is f(x) = sign(w.x + b): a tidu Dense(1, activation='sign') layer. Its sign has
a zero gradient almost everywhere, so gradient descent cannot train it; it is trained with the
classic perceptron learning rule instead, w += lr * (y - f(x)) * x, b += lr * (y - f(x)), one
sample at a time, targets in {-1, +1}. On linearly separable data (AND, OR) the rule converges
to 100% (the perceptron convergence theorem); on XOR no line separates the classes, so at most
3 of the 4 points can ever be right. A 2-8-1 MLP (tanh hidden layer, sigmoid output, binary
cross-entropy, Adam) solves XOR.

Run: python examples/text_c_perceptron_xor.py [--epochs 1000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

import tidu
from tidu.nn import Dense

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def perceptron(seed: int) -> Dense:
    """f(x) = sign(w.x + b) with small random weights (tidu's generator, seeded)."""
    tidu.manual_seed(seed)
    return Dense(1, activation="sign", kernel_initializer=tidu.initializers.RandomNormal(
        stddev=0.1), input_shape=(2,))


def train_perceptron(unit: Dense, x: np.ndarray, y: np.ndarray, epochs: int = 20,
                     lr: float = 0.1) -> dict:
    """The perceptron learning rule, sample by sample, until an epoch makes no mistake.

    Args:
        unit: the Dense(1, 'sign') perceptron; its kernel and bias are updated in place.
        x: inputs (n, 2); y: targets in {-1, +1}, shape (n,).
        epochs: passes over the data at most.
        lr: learning rate.

    Returns:
        accuracy after training, the best accuracy seen after any epoch, and the number of
        epochs until convergence (None when it never converged).
    """
    best, converged = 0.0, None
    for epoch in range(1, epochs + 1):
        mistakes = 0
        for xi, yi in zip(x, y):
            with tidu.no_grad():
                fx = unit(xi[None]).item()
            if fx != yi:
                mistakes += 1
                unit.kernel.data[:, 0] += lr * (yi - fx) * xi
                unit.bias.data[0] += lr * (yi - fx)
        acc = accuracy_sign(unit, x, y)
        best = max(best, acc)
        if mistakes == 0:
            converged = epoch
            break
    return {"accuracy": accuracy_sign(unit, x, y), "best_accuracy": best,
            "epochs_to_converge": converged}


def accuracy_sign(unit: Dense, x: np.ndarray, y: np.ndarray) -> float:
    with tidu.no_grad():
        return float(np.mean(unit(x).numpy()[:, 0] == y))


def sign_gradient_is_zero(seed: int) -> float:
    """Why the rule and not backprop: d sign(w.x + b) / dw is 0; returns max |grad|."""
    unit = perceptron(seed)
    out = unit(X).sum()
    (gw,) = tidu.grad(out, [unit.kernel])
    return float(np.abs(gw.numpy()).max())


GRID = 41


def best_linear_accuracy(x: np.ndarray, truth) -> float:
    """Minsky's point, checked by brute force: the best accuracy over a grid of (w1, w2, b)."""
    y = 2 * np.asarray(truth) - 1
    axis = np.linspace(-2, 2, GRID)
    w1, w2, b = (a.ravel() for a in np.meshgrid(axis, axis, axis))
    pred = np.sign(np.outer(x[:, 0], w1) + np.outer(x[:, 1], w2) + b)  # (4, GRID**3)
    return float((pred == y[:, None]).mean(0).max())


def mlp_xor(x: np.ndarray, y01: np.ndarray, seed: int, epochs: int) -> dict:
    """A 2-8-1 MLP: Dense(8, tanh) -> Dense(1, sigmoid), binary cross-entropy, Adam."""
    tidu.manual_seed(seed)
    model = tidu.Sequential([Dense(8, activation="tanh", input_shape=(2,)),
                             Dense(1, activation="sigmoid")])
    model.compile(optimizer=tidu.optim.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y01[:, None], batch_size=4, epochs=epochs, verbose=0, seed=seed)
    prob = model.predict(x)[:, 0]
    return {"accuracy": float(np.mean((prob > 0.5) == (y01 > 0.5))),
            "loss": hist.history["loss"][-1], "probabilities": prob}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=500, help="MLP training epochs")
    ap.add_argument("--perceptron-epochs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    results = {"perceptron": {}, "mlp": {}}
    print(f"max |d sign(w.x+b)/dw| = {sign_gradient_is_zero(args.seed)} "
          "(so the perceptron is trained with its own rule, not by gradient descent)")
    print(f"{'task':<5} {'perceptron acc':>15} {'best epoch acc':>15} {'converged at':>13} "
          f"{'MLP acc':>8} {'MLP loss':>9}")
    for name, truth in TRUTH.items():
        y01 = np.array(truth, dtype=np.float32)
        unit = perceptron(args.seed)
        p = train_perceptron(unit, X, 2 * y01 - 1, epochs=args.perceptron_epochs)
        m = mlp_xor(X, y01, args.seed, args.epochs)
        results["perceptron"][name], results["mlp"][name] = p, m
        conv = "never" if p["epochs_to_converge"] is None else f"epoch {p['epochs_to_converge']}"
        print(f"{name:<5} {p['accuracy']:>15.0%} {p['best_accuracy']:>15.0%} {conv:>13} "
              f"{m['accuracy']:>8.0%} {m['loss']:>9.4f}")
    probs = results["mlp"]["XOR"]["probabilities"]
    print("MLP on XOR, P(y=1) for (0,0) (0,1) (1,0) (1,1):",
          " ".join(f"{v:.3f}" for v in probs))
    results["linear_best_xor"] = best_linear_accuracy(X, TRUTH["XOR"])
    print(f"best accuracy of ANY sign(w.x + b) on XOR (grid of {GRID**3} lines): "
          f"{results['linear_best_xor']:.0%}")
    return results


if __name__ == "__main__":
    main()
