"""Draw Text A's two computation graphs with tidu.viz, values forward and gradients backward.

1. J(a, b, c) = 3(a + b*c) with a=7, b=4, c=2: u = b*c = 8, v = a + u = 15, J = 3v = 45, and
   dJ/dv = 3, dJ/du = 3, dJ/da = 3, dJ/db = 3c = 6, dJ/dc = 3b = 12.
2. Logistic regression for one example: z = w1*x1 + w2*x2 + b, a = sigmoid(z),
   L(a, y) = -(y log a + (1-y) log(1-a)), whose derivatives Text A works out by hand:
   dz = a - y, dw1 = x1*dz, dw2 = x2*dz, db = dz.

Prints the DOT text of both graphs, writes graph_J.dot and graph_logreg.dot, and, when the
Graphviz ``dot`` program is installed, graph_J.svg and graph_logreg.svg.

Run: python examples/graph_view.py [output_dir]     (default: the current directory)
"""

import shutil
import sys
from pathlib import Path

import numpy as np

import tidu
from tidu import viz


def j_graph():
    """Text A's J = 3(a + b*c), kept alive (retain_graph) and with every gradient retained."""
    a = tidu.tensor(7.0, requires_grad=True, name="a")
    b = tidu.tensor(4.0, requires_grad=True, name="b")
    c = tidu.tensor(2.0, requires_grad=True, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    for t, name in ((u, "u"), (v, "v"), (J, "J")):
        t.name = name
        t.retain_grad()  # non-leaf gradients are dropped unless asked for
    J.backward(retain_graph=True)  # keep the graph so that it can be drawn
    return J, dict(a=a, b=b, c=c, u=u, v=v, J=J)


def logreg_graph(x1=2.0, x2=-1.0, w1=0.3, w2=0.5, b=0.1, y=1.0):
    """One example through Text A's logistic-regression graph, in float64."""
    def leaf(value, name):
        # x1 and x2 need no gradient, but tidu records only inputs that require grad, so they
        # are made to require it here to appear by name in the drawing.
        return tidu.tensor(value, requires_grad=True, dtype="float64", name=name)

    t = {n: leaf(val, n) for n, val in (("x1", x1), ("w1", w1), ("x2", x2), ("w2", w2),
                                         ("b", b))}
    z = t["w1"] * t["x1"] + t["w2"] * t["x2"] + t["b"]
    a = tidu.sigmoid(z)
    L = -(y * tidu.log(a) + (1 - y) * tidu.log(1 - a))
    for tensor, name in ((z, "z"), (a, "a"), (L, "L")):
        tensor.name = name
        tensor.retain_grad()
    L.backward(retain_graph=True)
    t.update(z=z, a=a, L=L, y=y)
    return L, t


def draw(root, out_dir: Path, stem: str) -> None:
    """Write <stem>.dot always and <stem>.svg when Graphviz is installed."""
    viz.render(root, path=out_dir / f"{stem}.dot")
    if shutil.which("dot") is None:
        print(f"Graphviz 'dot' not found: skipped {stem}.svg "
              "(install Graphviz, e.g. apt-get install graphviz)")
        return
    path = viz.render(root, path=out_dir / f"{stem}.svg")
    print(f"wrote {path}")


def main(argv: list) -> None:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(".")
    out_dir.mkdir(parents=True, exist_ok=True)

    J, t = j_graph()
    print("J = 3(a + b*c) with a=7, b=4, c=2")
    print("  values: " + ", ".join(f"{n}={t[n].item():g}" for n in ("u", "v", "J")))
    print("  grads:  " + ", ".join(f"dJ/d{n}={t[n].grad.item():g}" for n in "vuabc"))
    print(viz.to_dot(J))
    draw(J, out_dir, "graph_J")

    L, t = logreg_graph()
    print("\nLogistic regression, one example: "
          + ", ".join(f"{n}={t[n].item():g}" for n in ("x1", "x2", "w1", "w2", "b")) +
          f", y={t['y']:g}")
    print(f"  z={t['z'].item():.6f}  a=sigmoid(z)={t['a'].item():.6f}  L={t['L'].item():.6f}")
    a, y = t["a"].item(), t["y"]
    dz = a - y  # Text A's derivatives, by hand
    by_hand = {"dz": dz, "dw1": t["x1"].item() * dz, "dw2": t["x2"].item() * dz, "db": dz}
    by_tidu = {"dz": t["z"].grad.item(), "dw1": t["w1"].grad.item(),
               "dw2": t["w2"].grad.item(), "db": t["b"].grad.item()}
    print(f"  {'':4} {'by hand':>12} {'tidu':>12}")
    for k in by_hand:
        print(f"  {k:4} {by_hand[k]:12.8f} {by_tidu[k]:12.8f}")
    agree = all(np.isclose(by_hand[k], by_tidu[k], rtol=1e-12, atol=1e-15) for k in by_hand)
    print("  hand-derived and tidu gradients agree:", agree)
    print(viz.to_dot(L))
    draw(L, out_dir, "graph_logreg")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
