"""The README's pictures, drawn with tidu.plot (needs the ``plot`` extra, matplotlib).

* ``history.png``: Text B's network (Dense(512, relu) -> Dense(10, softmax), RMSprop) on the
  embedded 8x8 digits (MNIST from --data when given), loss and accuracy per epoch, train and
  validation (``History.plot()``);
* ``decision_boundary.png``: Text C's perceptron on AND and on XOR (no line separates XOR),
  and a 2-8-1 MLP that solves XOR;
* ``optimizers.png``: SGD, momentum, RMSprop and Adam on one parameter: gradient, moment
  estimates and effective step (``tidu.plot.explain_optimizers``);
* ``graph.png``: Text A's J = 3(a + bc) with its values and gradients (``tidu.plot.plot_graph``).

Run: python examples/pictures.py [--out docs/images] [--epochs 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tidu
import tidu.plot
from tidu.datasets import to_categorical
from tidu.nn import Dense

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)


def history_picture(path: Path, epochs: int, seed: int = 0):
    """Text B's program on the digits (1,438 training, 359 validation images)."""
    (x, y), (xt, yt) = tidu.datasets.digits.load_data()
    x, xt = x.reshape(len(x), -1) / 16.0, xt.reshape(len(xt), -1) / 16.0
    tidu.manual_seed(seed)
    model = tidu.Sequential([Dense(512, activation="relu", input_shape=(64,)),
                             Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, to_categorical(y, 10), epochs=epochs, batch_size=128, verbose=0,
                        validation_data=(xt, to_categorical(yt, 10)), seed=seed)
    fig = history.plot()
    fig.suptitle("Text B's network on the 8x8 digits: History.plot()", fontsize=10)
    fig.savefig(path)
    return fig, history


def perceptron(truth, epochs: int = 20, lr: float = 0.1, seed: int = 0) -> Dense:
    """sign(w.x + b) trained by the perceptron rule on the four corners."""
    tidu.manual_seed(seed)
    unit = Dense(1, activation="sign", input_shape=(2,),
                 kernel_initializer=tidu.initializers.RandomNormal(stddev=0.1))
    y = 2 * np.asarray(truth, dtype=np.float32) - 1
    for _ in range(epochs):
        for xi, yi in zip(XOR_X, y):
            with tidu.no_grad():
                fx = unit(xi[None]).item()
            if fx != yi:
                unit.kernel.data[:, 0] += lr * (yi - fx) * xi
                unit.bias.data[0] += lr * (yi - fx)
    return unit


def xor_mlp(epochs: int = 300, seed: int = 0):
    """Text C's 2-8-1 MLP (tanh, sigmoid, Adam) on XOR."""
    tidu.manual_seed(seed)
    model = tidu.Sequential([Dense(8, activation="tanh", input_shape=(2,)),
                             Dense(1, activation="sigmoid")])
    model.compile(optimizer=tidu.optim.Adam(learning_rate=0.05), loss="binary_crossentropy")
    model.fit(XOR_X, np.array([[0], [1], [1], [0]], np.float32), batch_size=4, epochs=epochs,
              verbose=0, seed=seed)
    return model


def boundary_picture(path: Path):
    """Three panels: the perceptron on AND, the perceptron on XOR, the MLP on XOR."""
    fig = tidu.plot.figure(10.5, 3.3)
    axes = fig.subplots(1, 3)
    and_y, xor_y = [0, 0, 0, 1], [0, 1, 1, 0]
    tidu.plot.plot_decision_boundary(perceptron(and_y), XOR_X, np.array(and_y), threshold=0.0,
                                     ax=axes[0], title="perceptron on AND")
    tidu.plot.plot_decision_boundary(perceptron(xor_y), XOR_X, np.array(xor_y), threshold=0.0,
                                     ax=axes[1], title="perceptron on XOR: no line works")
    tidu.plot.plot_decision_boundary(xor_mlp(), XOR_X, np.array(xor_y), ax=axes[2],
                                     title="2-8-1 MLP on XOR")
    fig.savefig(path)
    return fig


def graph_picture(path: Path):
    """Text A's J = 3(a + bc), a = 7, b = 4, c = 2, after backward."""
    a, b, c = (tidu.tensor(v, requires_grad=True, name=n)
               for v, n in ((7.0, "a"), (4.0, "b"), (2.0, "c")))
    u = b * c
    v = a + u
    J = 3 * v
    for t, n in ((u, "u"), (v, "v"), (J, "J")):
        t.name = n
        t.retain_grad()
    J.backward(retain_graph=True)
    return tidu.plot.plot_graph(J, path=path)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" /
                                         "images"))
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.png" for name in ("history", "decision_boundary",
                                                    "optimizers", "graph")}
    _, history = history_picture(paths["history"], args.epochs)
    boundary_picture(paths["decision_boundary"])
    tidu.plot.explain_optimizers(steps=40, path=paths["optimizers"])
    graph_picture(paths["graph"])
    acc = history.history["val_accuracy"][-1]
    print(f"Text B on the digits: validation accuracy {acc:.1%} after {args.epochs} epochs")
    for p in paths.values():
        print("wrote", p)
    return {"paths": paths, "history": history}


if __name__ == "__main__":
    main()
