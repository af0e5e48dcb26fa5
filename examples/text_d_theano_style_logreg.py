"""Text D: the Theano logistic-regression example, written with tidu.

N = 400 samples of 784 random features with random 0/1 targets; w ~ N(0, 1) (784), b = 0.
    p_1 = 1 / (1 + exp(-x.w - b))          probability that the target is 1
    prediction = p_1 > 0.5
    xent = -y log p_1 - (1 - y) log(1 - p_1)
    cost = mean(xent) + 0.01 * sum(w^2)    cross-entropy plus an L2 penalty
    gw, gb = grad(cost, [w, b])
    train = function(inputs=[x, y], outputs=[prediction, xent],
                     updates=[(w, w - 0.1 gw), (b, b - 0.1 gb)])
    predict = function(inputs=[x], outputs=prediction)
then 10,000 training steps. With more features (784) than samples (400) the random labels
can be fitted exactly, so the training accuracy approaches 100%; on new random samples the
predictions are coin flips (there is nothing to learn).

This is the eager version: tidu records the graph anew on every call, so ``train`` and
``predict`` below are plain Python functions with the same inputs, outputs and updates as
the two ``theano.function`` objects, and the stable log-sigmoid is written out by hand.
The program as written, compiled once by ``tidu.function`` (which makes that rewrite
itself), is examples/text_d_theano.py.

Run: python examples/text_d_theano_style_logreg.py [--steps 10000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

import tidu

N, FEATS = 400, 784


def log_sigmoid(z):
    """log(1 / (1 + exp(-z))) = -softplus(-z), computed without overflow or log(0).

    NOTE: the literal log(1 - p_1) is log(0) = -inf in float64 once z > 37 (here |x.w| is
    often ~50 at the start), so the literal xent is inf or NaN. Theano's graph optimizer
    rewrites log(sigmoid(z)) into this stable softplus form before compiling; tidu has no
    such rewriter, so the rewritten form is written out here. It is the same function.
    """
    return -(tidu.relu(-z) + tidu.log(1 + tidu.exp(-tidu.abs(z))))


def make_model(seed: int):
    """The data set D and the shared variables w, b, plus train and predict."""
    tidu.manual_seed(seed)
    rng = tidu.get_generator()
    D = (rng.standard_normal((N, FEATS)), rng.integers(0, 2, N).astype(np.float64))
    w = tidu.tensor(rng.standard_normal(FEATS), requires_grad=True, name="w")  # float64
    b = tidu.tensor(0.0, dtype="float64", requires_grad=True, name="b")

    def graph(x, y=None):
        """The symbolic part of the text: p_1, prediction, xent, cost."""
        z = tidu.tensor(x) @ w + b
        p_1 = tidu.sigmoid(z)
        prediction = p_1.numpy() > 0.5
        if y is None:
            return prediction, None, None
        y = tidu.tensor(y)
        xent = -y * log_sigmoid(z) - (1 - y) * log_sigmoid(-z)  # log(1 - p_1) = log_sig(-z)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        return prediction, xent, cost

    def train(x, y):
        """theano.function([x, y], [prediction, xent], updates=[(w, w - 0.1 gw), ...]);
        the cost (before the update) is returned as well, for the printout."""
        prediction, xent, cost = graph(x, y)
        gw, gb = tidu.grad(cost, [w, b])
        w.data -= 0.1 * gw.numpy()
        b.data -= 0.1 * gb.numpy()
        return prediction, xent.numpy(), float(cost.item())

    def predict(x):
        """theano.function([x], prediction)."""
        with tidu.no_grad():
            return graph(x)[0]

    return D, w, b, train, predict


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    D, w, b, train, predict = make_model(args.seed)
    x, y = D
    print(f"D: x {x.shape}, y {y.shape} ({int(y.sum())} ones); w ~ N(0, 1) ({w.shape[0]}), "
          "b = 0")
    initial_accuracy = float(np.mean(predict(x) == y))
    costs = []
    for i in range(args.steps):
        pred, err, cost = train(x, y)
        costs.append(cost)
        if i % max(1, args.steps // 10) == 0 or i == args.steps - 1:
            print(f"step {i:>5}: cost {cost:9.4f}, mean xent {err.mean():.4f}, "
                  f"training accuracy {np.mean(pred == y):.1%}")
    final = predict(x)
    accuracy = float(np.mean(final == y))
    print("Final model:")
    print(f"  b = {b.item():.4f}, |w| = {np.linalg.norm(w.numpy()):.4f}, "
          f"final cost {costs[-1]:.4f} (started at {costs[0]:.4f})")
    print(f"  target values for D:   {''.join(str(int(v)) for v in y[:40])}...")
    print(f"  prediction on D:       {''.join(str(int(v)) for v in final[:40])}...")
    print(f"  training accuracy {accuracy:.1%} (before training {initial_accuracy:.1%})")
    rng = np.random.default_rng(args.seed + 1)
    new = rng.standard_normal((30, FEATS))
    new_pred = predict(new)
    print(f"  predictions on 30 new random samples: {''.join(str(int(v)) for v in new_pred)}")
    return {"costs": costs, "train_accuracy": accuracy, "initial_accuracy": initial_accuracy,
            "w": w.numpy().copy(), "b": float(b.item()), "new_predictions": new_pred,
            "D": D}


if __name__ == "__main__":
    main()
