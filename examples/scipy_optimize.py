"""Text D's scipy.optimize with tidu's derivatives: a parabola, then cat vs non-cat.

1. Text D's example, x^2 - 4x + 8 from x0 = 1.3 (minimum 4 at x = 2), with scipy methods of
   every family: derivative-free (Nelder-Mead, Powell), gradient (CG, BFGS, L-BFGS-B) and
   second order (Newton-CG, trust-ncg, with tidu's Hessian-vector products).
2. Text A's logistic regression on cat vs non-cat: Text A's gradient descent (learning rate
   0.005, 2000 iterations, zero start), then L-BFGS-B from zero, counting the function
   evaluations it needs to reach gradient descent's final cost.

Run: python examples/scipy_optimize.py [--data DIR] [--iterations 2000]
"""

from __future__ import annotations

import time

import numpy as np
import scipy.optimize
from _common import data_root, parser
from text_a_logistic_regression import initialize_with_zeros, load, optimize, predict, propagate

import tidu
import tidu.optimize

METHODS = ("Nelder-Mead", "Powell", "CG", "BFGS", "L-BFGS-B", "Newton-CG", "trust-ncg")


def parabola(x):
    """Text D's function: x^2 - 4x + 8."""
    return x ** 2 - 4 * x + 8


def minimize_parabola(methods=METHODS) -> dict:
    """Each method from x0 = 1.3; returns method -> (x, f, function evaluations)."""
    print("Text D: minimize x**2 - 4x + 8 from x0 = 1.3")
    print(f"  {'method':<12}{'x':>12}{'f(x)':>12}{'evaluations':>13}")
    out = {}
    for m in methods:
        res = tidu.optimize.minimize(parabola, 1.3, method=m)
        out[m] = (float(res.x), float(res.fun), int(res.nfev))
        print(f"  {m:<12}{float(res.x):>12.6f}{float(res.fun):>12.6f}{res.nfev:>13d}")
    return out


def accuracy(w, b, X, Y) -> float:
    """Percentage of images classified right (Text A's formula)."""
    return float(100 - np.mean(np.abs(predict(w, b, X) - Y)) * 100)


def gradient_descent(X, Y, iterations: int, learning_rate: float):
    """Text A's optimize() from zeros; returns w, b and the cost after the last step."""
    w, b = initialize_with_zeros(X.shape[0])
    w, b, _ = optimize(w, b, X, Y, iterations, learning_rate)
    return w, b, propagate(w, b, X, Y)[1]


def cross_entropy(w, b, X, Y):
    """Text A's cost, written stably for the long steps of a quasi-Newton method.

    -(y log a + (1 - y) log(1 - a)) with a = sigmoid(z) equals softplus(z) - y z, which has
    no log(0) when a saturates (the text's form would hand scipy inf after a long step).
    """
    z = w.T @ X + b
    return (tidu.softplus(z) - Y * z).mean()


def lbfgsb(X, Y, target: float, X_test, Y_test):
    """L-BFGS-B from zeros; the evaluations and the iterate at which the cost reaches target."""
    w, b = initialize_with_zeros(X.shape[0])
    iterates, reached = [], {}

    def callback(intermediate_result):  # the parameters hold this iterate here
        iterates.append(intermediate_result.fun)
        if not reached and intermediate_result.fun <= target:
            reached.update(iteration=len(iterates), cost=float(intermediate_result.fun),
                           train=accuracy(w, b, X, Y), test=accuracy(w, b, X_test, Y_test))

    res = tidu.optimize.minimize_model([w, b], lambda: cross_entropy(w, b, X, Y),
                                       method="L-BFGS-B", callback=callback)
    evals = next((i + 1 for i, f in enumerate(res.history) if f <= target), None)
    return w, b, res, evals, reached


def check_gradient(X, Y) -> float:
    """scipy's check_grad of tidu's gradient at w = 0, along one random direction."""
    w, b = initialize_with_zeros(X.shape[0])
    obj = tidu.optimize.Objective([w, b], lambda: cross_entropy(w, b, X, Y))
    return float(scipy.optimize.check_grad(obj.fun, obj.jac, obj.vector(),
                                           direction="random", rng=0))


def main(argv=None) -> dict:
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--learning-rate", type=float, default=0.005)
    args = ap.parse_args(argv)
    out = {"parabola": minimize_parabola()}

    X, Y, X_test, Y_test = load(data_root(args.data))
    print(f"\nCat vs non-cat logistic regression: X {X.shape}, {X.shape[0] + 1} parameters")
    t = time.perf_counter()
    w, b, gd_cost = gradient_descent(X, Y, args.iterations, args.learning_rate)
    gd = {"cost": gd_cost, "train": accuracy(w, b, X, Y), "test": accuracy(w, b, X_test, Y_test),
          "seconds": time.perf_counter() - t}
    print(f"gradient descent, learning rate {args.learning_rate}, {args.iterations} "
          f"iterations: cost {gd_cost:.6f}, train {gd['train']:.2f} %, test {gd['test']:.2f} % "
          f"({gd['seconds']:.1f} s)")

    t = time.perf_counter()
    w, b, res, evals, reached = lbfgsb(X, Y, gd_cost, X_test, Y_test)
    lb = {"evaluations_to_gd_cost": evals, "at_gd_cost": reached, "cost": float(res.fun),
          "nfev": int(res.nfev), "nit": int(res.nit), "message": str(res.message),
          "train": accuracy(w, b, X, Y), "test": accuracy(w, b, X_test, Y_test),
          "seconds": time.perf_counter() - t}
    print(f"L-BFGS-B reaches that cost after {evals} function evaluations "
          f"(iteration {reached['iteration']}: cost {reached['cost']:.6f}, "
          f"train {reached['train']:.2f} %, test {reached['test']:.2f} %)")
    print(f"L-BFGS-B stops after {res.nfev} evaluations, {res.nit} iterations ({res.message}): "
          f"cost {res.fun:.3g}, train {lb['train']:.2f} %, test {lb['test']:.2f} % "
          f"({lb['seconds']:.1f} s)")
    lb["check_grad"] = err = check_gradient(X, Y)
    print(f"check_grad of tidu's gradient along a random direction at w = 0: {err:.2e}")
    out.update(gradient_descent=gd, lbfgsb=lb)
    return out


if __name__ == "__main__":
    main()
