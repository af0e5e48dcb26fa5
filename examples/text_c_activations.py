"""Text C: activation functions compared, and why an MLP needs them at all.

1. The same MLP, 2 -> 16 -> 16 -> 1, with sigmoid, tanh and ReLU hidden activations, trained by
   SGD with momentum on two interleaved half moons (NumPy-generated, seeded): final loss and
   accuracy, the epoch at which training accuracy first reaches the target, and the slope
   phi'(z) in the hidden layers. Sigmoid's slope is at most 0.25 and vanishes where it
   saturates, so the gradient reaching the first layer is far smaller and it learns slowest;
   tanh (zero-centred, slope up to 1) and ReLU (slope 1 wherever active) learn fast.
2. Text C's 4-5-3 MLP without activations, H = X W_h + b_h, O = H W_o + b_o, equals ONE linear
   layer O = X (W_h W_o) + (b_h W_o + b_o): checked numerically with tidu layers, and by a
   least-squares fit that is exact without an activation and not with tanh.

Run: python examples/text_c_activations.py [--epochs 100] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

import tidu
from tidu.nn import Dense

ACTIVATIONS = ("sigmoid", "tanh", "relu")
SLOPE = {  # phi'(z) and its largest value
    "sigmoid": (lambda z: (s := 1 / (1 + np.exp(-z))) * (1 - s), 0.25),
    "tanh": (lambda z: 1 - np.tanh(z) ** 2, 1.0),
    "relu": (lambda z: (z > 0).astype(z.dtype), 1.0),
}


def moons(n: int = 400, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (not linearly separable), standardized; labels 0/1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y.astype(np.float32)


def mlp(activation: str, seed: int, width: int = 16) -> tidu.Sequential:
    tidu.manual_seed(seed)
    return tidu.Sequential([Dense(width, activation=activation, input_shape=(2,)),
                            Dense(width, activation=activation),
                            Dense(1, activation="sigmoid")])


def hidden_slopes(model: tidu.Sequential, x: np.ndarray, activation: str) -> tuple[float, float]:
    """Mean phi'(z) over the hidden units and samples, and the fraction of (nearly) flat units:
    phi'(z) below 5% of its maximum (saturated sigmoid/tanh, inactive ReLU)."""
    slope, top = SLOPE[activation]
    h, slopes = x.astype(np.float64), []
    for layer in list(model.layers)[:-1]:
        z = h @ layer.kernel.numpy() + layer.bias.numpy()
        slopes.append(slope(z))
        h = model_activation(activation, z)
    s = np.concatenate([a.ravel() for a in slopes])
    return float(s.mean()), float(np.mean(s < 0.05 * top))


def model_activation(name: str, z: np.ndarray) -> np.ndarray:
    return {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
            "relu": lambda v: np.maximum(v, 0)}[name](z)


def first_layer_grad_norm(model: tidu.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """|dL/dW_1|: how much gradient reaches the first layer (at initialization)."""
    loss = tidu.losses.get("binary_crossentropy")(y[:, None], model(x))
    (g,) = tidu.grad(loss, [model.layers[0].kernel])
    return float(np.linalg.norm(g.numpy()))


def compare(epochs: int, seed: int, target: float) -> dict:
    x, y = moons(seed=seed)
    out = {}
    for act in ACTIVATIONS:
        model = mlp(act, seed)
        g0 = first_layer_grad_norm(model, x, y)
        slope0, _ = hidden_slopes(model, x, act)
        model.compile(optimizer=tidu.optim.SGD(learning_rate=0.1, momentum=0.9),
                      loss="binary_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y[:, None], batch_size=32, epochs=epochs, verbose=0, seed=seed)
        acc = hist.history["accuracy"]
        reached = next((i + 1 for i, a in enumerate(acc) if a >= target), None)
        loss, final_acc = model.evaluate(x, y[:, None])
        slope, flat = hidden_slopes(model, x, act)
        out[act] = {"loss": loss, "accuracy": final_acc, "epochs_to_target": reached,
                    "grad_norm_init": g0, "mean_slope_init": slope0, "mean_slope": slope,
                    "flat_fraction": flat}
    return out


def collapse(seed: int, hidden_activation=None) -> dict:
    """Text C's 4-5-3 MLP against the single linear layer W = W_h W_o, b = b_h W_o + b_o."""
    tidu.manual_seed(seed)
    two = tidu.Sequential([Dense(5, activation=hidden_activation, input_shape=(4,)),
                           Dense(3)])
    for layer in two.layers:  # nonzero biases, so that b_h W_o + b_o is really tested
        layer.bias.data[...] = tidu.get_generator().standard_normal(layer.bias.shape)
    x = tidu.get_generator().standard_normal((50, 4)).astype(np.float32)
    w_h, b_h = two.layers[0].kernel.numpy(), two.layers[0].bias.numpy()
    w_o, b_o = two.layers[1].kernel.numpy(), two.layers[1].bias.numpy()
    one = Dense(3, input_shape=(4,))
    one.kernel.data[...] = w_h @ w_o
    one.bias.data[...] = b_h @ w_o + b_o
    with tidu.no_grad():
        o_two, o_one = two(x).numpy(), one(x).numpy()
    # the best single linear map fitted by least squares, [X 1] @ A ~ O (float64)
    design = np.c_[x, np.ones(len(x))].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, o_two.astype(np.float64), rcond=None)
    residual = np.abs(design @ coef - o_two).max()
    return {"max_diff": float(np.abs(o_two - o_one).max()), "lstsq_residual": float(residual),
            "combined_kernel_shape": (w_h @ w_o).shape}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--target", type=float, default=0.95, help="training accuracy to reach")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    res = compare(args.epochs, args.seed, args.target)
    print(f"two moons, 400 points, MLP 2-16-16-1, SGD(0.1, momentum 0.9), {args.epochs} epochs")
    print(f"{'hidden':<8} {'loss':>7} {'acc':>6} {'epochs to ' + format(args.target, '.0%'):>14} "
          f"{'|dL/dW1| init':>14} {'phi` init':>10} {'phi` end':>9} {'flat units':>11}")
    for act, r in res.items():
        reached = "never" if r["epochs_to_target"] is None else str(r["epochs_to_target"])
        print(f"{act:<8} {r['loss']:>7.4f} {r['accuracy']:>6.1%} {reached:>14} "
              f"{r['grad_norm_init']:>14.4f} {r['mean_slope_init']:>10.3f} "
              f"{r['mean_slope']:>9.3f} {r['flat_fraction']:>11.1%}")
    zs = np.array([0.0, 2.0, 5.0, 10.0])
    for act in ACTIVATIONS:
        print(f"phi'(z) of {act:<7} at z = 0, 2, 5, 10: "
              + "  ".join(f"{v:.4f}" for v in SLOPE[act][0](zs)))
    ratio = res["tanh"]["grad_norm_init"] / res["sigmoid"]["grad_norm_init"]
    print(f"sigmoid's slope is at most 0.25 and vanishes as it saturates (|z| large): the "
          f"gradient reaching W1 is {ratio:.0f}x smaller than with tanh, so it learns slowest")

    linear = collapse(args.seed)
    with_tanh = collapse(args.seed, hidden_activation="tanh")
    print(f"\n4-5-3 MLP without activation vs one Dense with W_h W_o "
          f"{linear['combined_kernel_shape']}: max |difference| = {linear['max_diff']:.2e}")
    print(f"least-squares fit of one linear map: max residual {linear['lstsq_residual']:.2e} "
          f"(no activation), {with_tanh['lstsq_residual']:.2e} (tanh hidden layer)")
    return {"activations": res, "collapse": linear, "collapse_tanh": with_tanh}


if __name__ == "__main__":
    main()
