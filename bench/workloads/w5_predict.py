"""W5: predict throughput of Text B's network (784-512 relu-10 softmax) on 10,000
MNIST-sized inputs, batch 128, float32: tidu ``model.predict``, hand NumPy, PyTorch eager
under ``no_grad``, JAX jit; each returns the (10000, 10) probabilities as a NumPy array."""

from __future__ import annotations

import numpy as np

from .common import Config, Target, Workload, have

BATCH = 128


def weights():
    rng = np.random.default_rng(0)
    return [rng.uniform(-0.07, 0.07, (784, 512)).astype(np.float32),
            np.zeros(512, np.float32),
            rng.uniform(-0.1, 0.1, (512, 10)).astype(np.float32), np.zeros(10, np.float32)]


def build_tidu(x, ws):
    import tidu
    from tidu import nn

    model = tidu.Sequential([nn.Dense(512, activation="relu", input_shape=(784,)),
                             nn.Dense(10, activation="softmax")])
    for layer, (k, b) in zip(model.layers, (ws[:2], ws[2:])):
        layer.kernel.data[...] = k
        layer.bias.data[...] = b
    return lambda: model.predict(x, batch_size=BATCH)


def build_numpy(x, ws):
    W1, b1, W2, b2 = ws

    def run():
        out = np.empty((len(x), 10), np.float32)
        for i in range(0, len(x), BATCH):
            h = x[i:i + BATCH] @ W1
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ W2
            z += b2
            z -= z.max(1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(1, keepdims=True)
            out[i:i + BATCH] = z
        return out
    return run


def build_torch(x, ws):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10), torch.nn.Softmax(dim=1))
    with torch.no_grad():
        for lin, (k, b) in zip((model[0], model[2]), (ws[:2], ws[2:])):
            lin.weight.copy_(torch.from_numpy(k.T))
            lin.bias.copy_(torch.from_numpy(b))
    model.eval()
    xt = torch.from_numpy(x)

    def run():
        with torch.no_grad():
            return torch.cat([model(xt[i:i + BATCH]) for i in range(0, len(xt), BATCH)]).numpy()
    return run


def build_jax(x, ws):
    import jax
    import jax.numpy as jnp

    W1, b1, W2, b2 = (jnp.asarray(w) for w in ws)

    @jax.jit
    def f(xb):
        return jax.nn.softmax(jax.nn.relu(xb @ W1 + b1) @ W2 + b2)

    xj = jnp.asarray(x)
    return lambda: np.concatenate([np.asarray(f(xj[i:i + BATCH]))
                                   for i in range(0, len(x), BATCH)])


def setup(cfg: Config) -> Workload:
    from .common import mnist

    _, _, x, _, source = mnist(cfg)
    x = np.ascontiguousarray(x[:10000])
    ws = weights()
    runs = {"tidu": build_tidu(x, ws), "numpy": build_numpy(x, ws),
            "torch": build_torch(x, ws)}
    skipped = {}
    if have("jax"):
        runs["jax jit"] = build_jax(x, ws)
    else:
        skipped["jax jit"] = "jax not installed"
    ref = runs["numpy"]()
    for name, run in runs.items():
        np.testing.assert_allclose(run(), ref, rtol=1e-4, atol=1e-6,
                                   err_msg=f"W5 {name}: predictions differ")
    return Workload(
        key="W5", title=f"predict 10,000 inputs, Text B network, batch 128 ({source})",
        unit="ms/10k", scale=1e3, runs=runs, skipped=skipped,
        flops=2.0 * 10000 * (784 * 512 + 512 * 10),
        targets=[Target("tidu", "torch", 0.8, "W5 tidu predict <= 0.8x torch eager")])
