"""Text D: the deeplearning.net Theano logistic-regression program, run by tidu as written.

The program below is the classic one line for line, with ``theano`` and ``T`` bound to
tidu (``import tidu as theano``, ``import tidu as T``) and nothing rewritten by hand. Its
cross-entropy is the literal ``-y * T.log(p_1) - (1-y) * T.log(1-p_1)``: with w ~ N(0, 1)
over 784 features, |x.w| is ~30 at the start, so in float64 ``1 - p_1`` rounds to 0 and the
literal formula is log(0) = -inf. ``theano.function`` (here ``tidu.function``) recognizes
``1 / (1 + exp(-z))`` as sigmoid(z) and rewrites log(sigmoid(z)) and log(1 - sigmoid(z))
into the stable -softplus(-z) and -softplus(z), as Theano's optimizer did, so every xent
value stays finite (``train.stats`` counts the rewrites).

Additions around the program: ``--seed`` (numpy.random.seed, default 0), ``--steps``
(default 10000), ``--brief`` to abridge the printed arrays, the predictions on 30 new
random samples, and a summary: training accuracy, final cost, time per step (including the
added finiteness check), whether every xent value was finite, and the rewrites made.

Run: python examples/text_d_theano.py [--steps 10000] [--seed 0] [--brief]
"""

from __future__ import annotations

import argparse
import time

import numpy

import tidu as T
import tidu as theano


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=10000, help="training steps (10000)")
    ap.add_argument("--seed", type=int, default=0, help="numpy.random.seed (0)")
    ap.add_argument("--brief", action="store_true", help="abridge the printed arrays")
    args = ap.parse_args(argv)
    numpy.random.seed(args.seed)
    if args.brief:
        numpy.set_printoptions(threshold=100, edgeitems=8)

    # ---------------- the program, as written ----------------
    rng = numpy.random

    N = 400                                   # training sample size
    feats = 784                               # number of input variables

    # generate a dataset: D = (input_values, target_class)
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = args.steps

    # Declare Theano symbolic variables
    x = T.dmatrix("x")
    y = T.dvector("y")

    # initialize the weight vector w randomly
    w = theano.shared(rng.randn(feats), name="w")

    # initialize the bias term
    b = theano.shared(0., name="b")

    print("Initial model:")
    print(w.get_value())
    print(b.get_value())
    w0, b0 = w.get_value().copy(), float(b.get_value())

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))   # Probability that target = 1
    prediction = p_1 > 0.5                    # The prediction thresholded
    xent = -y * T.log(p_1) - (1-y) * T.log(1-p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w ** 2).sum()  # The cost to minimize
    gw, gb = T.grad(cost, [w, b])             # Compute the gradient of the cost
                                              # w.r.t weight vector w and bias term b

    # Compile
    train = theano.function(
              inputs=[x, y],
              outputs=[prediction, xent],
              updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)

    # Train
    all_finite = True
    t0 = time.perf_counter()
    for i in range(training_steps):  # noqa: B007 (as written)
        pred, err = train(D[0], D[1])
        all_finite &= bool(numpy.isfinite(err).all())  # added: the rewrite's evidence
    seconds = time.perf_counter() - t0

    print("Final model:")
    print(w.get_value())
    print(b.get_value())
    print("target values for D:")
    print(D[1])
    print("prediction on D:")
    print(predict(D[0]))
    # ---------------- end of the program ----------------

    new = rng.randn(30, feats)
    new_predictions = predict(new)
    print("prediction on 30 new random samples:")
    print(new_predictions.astype(int))

    final = predict(D[0])
    accuracy = float(numpy.mean(final == D[1]))
    compute_cost = theano.function([x, y], cost)
    final_cost = float(compute_cost(D[0], D[1]))
    per_step = seconds / max(1, training_steps) * 1e6
    print(f"training accuracy {accuracy:.1%}, final cost {final_cost:.6f}")
    print(f"{training_steps} steps in {seconds:.2f} s ({per_step:.1f} us per step)")
    print(f"every xent value finite at every step: {all_finite}")
    print(f"rewrites: {dict(sorted(train.stats.items()))}")
    return {"D": D, "w0": w0, "b0": b0, "w": w.get_value().copy(), "b": float(b.get_value()),
            "train": train, "predict": predict, "x": x, "y": y, "w_shared": w, "b_shared": b,
            "train_accuracy": accuracy, "final_cost": final_cost, "all_finite": all_finite,
            "last_xent": err if training_steps else None, "seconds": seconds,
            "us_per_step": per_step, "new_predictions": new_predictions,
            "steps": training_steps}


if __name__ == "__main__":
    main()
