"""Text D: backpropagation written by hand for Linear -> ReLU -> Linear -> MSE, checked against
tidu's automatic differentiation; and a finite-difference image gradient along an axis.

The hand-written part is plain NumPy in the text's style: each function stores the gradient
of the loss with respect to its input in the input's ``.g`` attribute, walking backward from
the loss (mse_grad), through the second linear layer (lin_grad), the ReLU (relu_grad) and the
first linear layer. The same weights then go through tidu twice (raw tensor ops, and
Dense layers with the 'mse' loss) and ``loss.backward()`` must give the same gradients
(np.allclose, float64). Data: MNIST images regressed on their digit, as in the text; a
synthetic stand-in when no MNIST folder is found.

Run: python examples/text_d_handwritten_backprop.py [--data DIR] [--samples 1000]
"""

from __future__ import annotations

import numpy as np
from _common import data_root, parser

import tidu
from tidu import datasets


class Array(np.ndarray):
    """A float64 NumPy array that can carry a ``.g`` attribute (the text's tensors can)."""


def arr(a) -> Array:
    return np.asarray(a, dtype=np.float64).view(Array)


# ----- the forward pass -----
def lin(x, w, b):
    return x @ w + b


def relu(x):
    return np.maximum(x, 0.0)


def mse(output, targ):
    return float(((output[:, 0] - targ) ** 2).mean())


# ----- the backward pass, written by hand -----
def mse_grad(inp, targ):
    """d mean((inp - targ)^2) / d inp = 2 (inp - targ) / n."""
    inp.g = 2.0 * (inp[:, 0] - targ)[:, None] / inp.shape[0]


def relu_grad(inp, out):
    """ReLU passes the gradient where its input was positive: 0 for inp <= 0, 1 above."""
    inp.g = (inp > 0).astype(np.float64) * out.g


def lin_grad(inp, out, w, b):
    """out = inp @ w + b: inp.g = out.g @ w.T, w.g = inp.T @ out.g, b.g = out.g.sum(0)."""
    inp.g = out.g @ w.T
    w.g = inp.T @ out.g
    b.g = out.g.sum(0)


def forward_and_backward(inp, targ, w1, b1, w2, b2) -> float:
    """The text's forward_and_backward: the forward pass, then every .g from the loss back."""
    l1 = lin(inp, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    loss = mse(out, targ)
    mse_grad(out, targ)
    lin_grad(l2, out, w2, b2)
    relu_grad(l1, l2)
    lin_grad(inp, l1, w1, b1)
    return loss


# ----- the same with tidu -----
def tidu_ops(x, y, weights):
    """Autodiff through raw tensor ops; returns the loss and d loss / d (x, w1, b1, w2, b2)."""
    leaves = [tidu.tensor(a, dtype="float64", requires_grad=True) for a in (x, *weights)]
    xt, w1, b1, w2, b2 = leaves
    out = tidu.relu(xt @ w1 + b1) @ w2 + b2
    loss = ((out[:, 0] - tidu.tensor(y)) ** 2).mean()
    loss.backward()
    return float(loss.item()), [t.grad.numpy() for t in leaves]


def tidu_layers(x, y, weights):
    """Autodiff through tidu.nn: Dense(relu) -> Dense and the 'mse' loss, same weights."""
    w1, b1, w2, b2 = weights
    model = tidu.Sequential([tidu.nn.Dense(w1.shape[1], activation="relu",
                                           input_shape=(w1.shape[0],)),
                             tidu.nn.Dense(1)])
    for p, value in zip((model.layers[0].kernel, model.layers[0].bias,
                         model.layers[1].kernel, model.layers[1].bias), weights):
        p.data = np.array(value, dtype=np.float64)
    loss = tidu.losses.get("mse")(y[:, None], model(tidu.tensor(x, dtype="float64")))
    loss.backward()
    params = [model.layers[0].kernel, model.layers[0].bias, model.layers[1].kernel,
              model.layers[1].bias]
    return float(loss.item()), [p.grad.numpy() for p in params]


def load(root, samples: int, seed: int):
    """MNIST images (normalized with their mean and std) and digits as float targets; or a
    synthetic stand-in (random images, targets from a random linear map) without data."""
    if root is not None and (root / "mnist").is_dir():
        (x_train, y_train), _ = datasets.mnist.load_data(root / "mnist")
        x = x_train[:samples].reshape(samples, -1).astype(np.float64) / 255
        image = x_train[0].astype(np.float64) / 255
        x = (x - x.mean()) / x.std()
        return x, y_train[:samples].astype(np.float64), image, "MNIST"
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, 784))
    yy, xx = np.mgrid[:28, :28]
    image = np.exp(-((yy - 14) ** 2 + (xx - 14) ** 2) / 40.0)  # a smooth blob
    return x, x @ rng.standard_normal(784) / 28, image, "synthetic"


def main(argv=None) -> dict:
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--hidden", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    x, y, image, source = load(data_root(args.data), args.samples, args.seed)
    n, m = x.shape

    tidu.manual_seed(args.seed)
    rng = tidu.get_generator()
    weights = [rng.standard_normal((m, args.hidden)) / np.sqrt(m), np.zeros(args.hidden),
               rng.standard_normal((args.hidden, 1)) / np.sqrt(args.hidden), np.zeros(1)]
    inp, w1, b1, w2, b2 = (arr(a) for a in (x, *weights))
    hand_loss = forward_and_backward(inp, y, w1, b1, w2, b2)
    hand = [inp.g, w1.g, b1.g, w2.g, b2.g]

    print(f"{source} data: x {x.shape}, Linear({m}, {args.hidden}) -> ReLU -> "
          f"Linear({args.hidden}, 1) -> MSE, float64")
    ops_loss, ops = tidu_ops(x, y, weights)
    lay_loss, lay = tidu_layers(x, y, weights)
    names = ["x", "w1", "b1", "w2", "b2"]
    diffs = {"ops": {}, "layers": {}}
    print(f"loss: by hand {hand_loss:.10f}, tidu ops {ops_loss:.10f}, tidu layers "
          f"{lay_loss:.10f}")
    print(f"{'grad':<5} {'shape':>10} {'max |hand - tidu ops|':>22} "
          f"{'max |hand - tidu layers|':>25} {'allclose':>9}")
    ok = True
    for i, name in enumerate(names):
        d_ops = float(np.abs(hand[i] - ops[i]).max())
        diffs["ops"][name] = d_ops
        close = np.allclose(hand[i], ops[i])
        line = f"{name:<5} {str(hand[i].shape):>10} {d_ops:>22.2e} "
        if i:  # the layers' version has no gradient for the input
            d_lay = float(np.abs(hand[i] - lay[i - 1]).max())
            diffs["layers"][name] = d_lay
            close = close and np.allclose(hand[i], lay[i - 1])
            line += f"{d_lay:>25.2e}"
        else:
            line += f"{'-':>25}"
        ok = ok and close
        print(f"{line} {close!s:>9}")

    # Text D's finite difference along an axis: neighbouring pixels subtracted
    dx = image[:, 1:] - image[:, :-1]
    dy = image[1:, :] - image[:-1, :]
    same = np.array_equal(dx, np.diff(image, axis=1)) and np.array_equal(
        (tidu.tensor(image)[:, 1:] - tidu.tensor(image)[:, :-1]).numpy(), dx)
    row = int(np.abs(dx).sum(1).argmax())
    cols = np.flatnonzero(dx[row])[:6]
    print(f"\nimage gradient of the {source} image {image.shape}: img[:, 1:] - img[:, :-1] has "
          f"shape {dx.shape}, img[1:, :] - img[:-1, :] has shape {dy.shape}")
    print(f"row {row}, columns {cols.tolist()}: "
          + " ".join(f"{v:+.3f}" for v in dx[row, cols])
          + f"; largest |d/dx| {np.abs(dx).max():.3f}, |d/dy| {np.abs(dy).max():.3f}; "
          f"equals np.diff and tidu slicing: {same}")
    return {"loss": {"hand": hand_loss, "ops": ops_loss, "layers": lay_loss},
            "hand_grads": dict(zip(names, hand)), "tidu_grads": dict(zip(names, ops)),
            "max_diff": diffs, "allclose": ok, "dx_shape": dx.shape, "dy_shape": dy.shape,
            "dx": dx, "image": image, "finite_difference_matches": same}


if __name__ == "__main__":
    main()
