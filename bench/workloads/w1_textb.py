"""W1: Text B's network (784-512 relu-10 softmax, categorical cross-entropy, RMSprop lr 1e-3,
batch 128), one shuffled 60,000-sample epoch, float32: tidu through ``model.fit`` (eager, and
``jit_compile=True``), a hand-written NumPy loop, PyTorch eager, JAX jit where installed.

Every contender shuffles, trains, and keeps the epoch's mean loss and accuracy (what
``fit`` logs), so equal work is compared.
"""

from __future__ import annotations

import numpy as np

from .common import Config, Target, Workload, have

BATCH = 128
LR, RHO, EPS = 1e-3, 0.9, 1e-7


def step_flops(n: int, hidden: int = 512) -> float:
    """Matrix-product FLOPs of one epoch of ``n`` samples: forward x @ W1 and h @ W2,
    backward dz @ W2.T, h.T @ dz and x.T @ dh (no gradient for the input)."""
    return 2.0 * n * (784 * hidden + hidden * 10) + 2.0 * n * (2 * hidden * 10 + 784 * hidden)


def build_products(x, y=None, hidden: int = 512, batch: int = BATCH):
    """The epoch's five matrix products and nothing else: the machine's own rate on the
    step's products, timed in the same rounds as the contenders (issue 17's reference for
    "at least 75% of the machine's matmul rate on the step's matrix products").

    Per batch, as the step runs them (float32, outputs preallocated, transposes as views):
    x @ W1, h @ W2, dz @ W2.T, h.T @ dz, x.T @ dh; the last, smaller batch too. ``y`` is
    not used: the call is the other builders' (``bench/matmul_time.py`` calls them alike)."""
    rng = np.random.default_rng(0)
    xb = np.ascontiguousarray(x[:batch])  # real pixels (zeros included), one batch
    W1 = rng.standard_normal((784, hidden)).astype(np.float32)
    W2 = rng.standard_normal((hidden, 10)).astype(np.float32)
    h = np.empty((batch, hidden), np.float32)
    z = np.empty((batch, 10), np.float32)
    dh = np.empty((batch, hidden), np.float32)
    gW1, gW2 = np.empty_like(W1), np.empty_like(W2)
    sizes = [min(batch, len(x) - i) for i in range(0, len(x), batch)]
    mm = np.matmul

    def epoch():
        for m in sizes:
            xm, hm, zm, dhm = xb[:m], h[:m], z[:m], dh[:m]
            mm(xm, W1, out=hm)
            mm(hm, W2, out=zm)
            mm(zm, W2.T, out=dhm)
            mm(hm.T, zm, out=gW2)
            mm(xm.T, dhm, out=gW1)
    return epoch


def build_tidu(x, y, hidden: int = 512, batch: int = BATCH, jit: bool = False,
               check_finite: bool = True):
    import tidu
    from tidu import nn

    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Dense(hidden, activation="relu", input_shape=(784,)),
                             nn.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"],
                  **({"jit_compile": True} if jit else {}))
    model.optimizer.check_finite = check_finite  # False: no undo of a non-finite step

    def epoch():
        return model.fit(x, y, batch_size=batch, epochs=1, verbose=0).history
    return epoch


def build_torch(x, y, hidden: int = 512, batch: int = BATCH):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, 10))
    # Keras's RMSprop has eps inside the square root, torch's outside: the same work
    opt = torch.optim.RMSprop(model.parameters(), lr=LR, alpha=RHO, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    F = torch.nn.functional

    def epoch():
        perm = torch.randperm(len(xt))
        total = correct = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            xb, yb = xt[idx], yt[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        return total / len(xt), correct / len(xt)
    return epoch


def build_numpy(x, y, hidden: int = 512, batch: int = BATCH):
    """A careful NumPy loop: in-place updates where they come naturally, float32 throughout."""
    rng = np.random.default_rng(0)
    lim1, lim2 = np.sqrt(6 / (784 + hidden)), np.sqrt(6 / (hidden + 10))
    W1 = rng.uniform(-lim1, lim1, (784, hidden)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    W2 = rng.uniform(-lim2, lim2, (hidden, 10)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [W1, b1, W2, b2]
    sq = [np.zeros_like(p) for p in params]

    def epoch():
        order = rng.permutation(len(x))
        total = correct = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb, yb = x[idx], y[idx]
            m = len(idx)
            h = xb @ W1
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ W2
            z += b2
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            s = p.sum(1, keepdims=True)
            total += float(np.log(s).sum() - (yb * z).sum())
            correct += int((z.argmax(1) == yb.argmax(1)).sum())
            p /= s
            p -= yb
            p /= m  # dz
            dh = p @ W2.T
            dh *= h > 0
            grads = [xb.T @ dh, dh.sum(0), h.T @ p, p.sum(0)]
            for P, G, S in zip(params, grads, sq):
                S *= RHO
                S += (1 - RHO) * G * G
                P -= LR * G / np.sqrt(S + EPS)
        return total / len(x), correct / len(x)
    return epoch


def build_jax(x, y, hidden: int = 512, batch: int = BATCH):
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    k1, k2 = jax.random.split(key)
    lim1, lim2 = np.sqrt(6 / (784 + hidden)), np.sqrt(6 / (hidden + 10))
    params = [jax.random.uniform(k1, (784, hidden), minval=-lim1, maxval=lim1),
              jnp.zeros(hidden), jax.random.uniform(k2, (hidden, 10), minval=-lim2,
                                                    maxval=lim2), jnp.zeros(10)]
    sq = [jnp.zeros_like(p) for p in params]

    def loss_fn(ps, xb, yb):
        h = jax.nn.relu(xb @ ps[0] + ps[1])
        z = h @ ps[2] + ps[3]
        lp = jax.nn.log_softmax(z)
        return -(yb * lp).sum() / xb.shape[0], z

    @jax.jit
    def step(ps, ss, xb, yb):
        (loss, z), gs = jax.value_and_grad(loss_fn, has_aux=True)(ps, xb, yb)
        ss = [RHO * s + (1 - RHO) * g * g for s, g in zip(ss, gs)]
        ps = [p - LR * g / jnp.sqrt(s + EPS) for p, g, s in zip(ps, gs, ss)]
        return ps, ss, loss, (z.argmax(1) == yb.argmax(1)).sum()

    xj, yj = jnp.asarray(x), jnp.asarray(y)
    state = {"p": params, "s": sq}
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x))
        total = correct = 0.0
        for i in range(0, len(x) - batch + 1, batch):  # full batches: one compiled shape
            idx = order[i:i + batch]
            state["p"], state["s"], loss, c = step(state["p"], state["s"], xj[idx], yj[idx])
            total += float(loss) * batch
            correct += int(c)
        return total / len(x), correct / len(x)
    return epoch


def setup(cfg: Config) -> Workload:
    from .common import mnist

    x, y, _, _, source = mnist(cfg)
    n = 12000 if cfg.quick else 60000
    x, y = np.ascontiguousarray(x[:n]), np.ascontiguousarray(y[:n])
    runs, skipped = {}, {}
    runs["tidu"] = build_tidu(x, y)
    runs["matmul only"] = build_products(x)
    try:
        runs["tidu jit"] = build_tidu(x, y, jit=True)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        skipped["tidu jit"] = f"jit_compile failed: {type(e).__name__}: {e}"
    runs["tidu unchecked"] = build_tidu(x, y, check_finite=False)
    runs["numpy"] = build_numpy(x, y)
    runs["torch"] = build_torch(x, y)
    if have("jax"):
        runs["jax jit"] = build_jax(x, y)
    else:
        skipped["jax jit"] = "jax not installed"
    return Workload(
        key="W1", title=f"Text B 784-512-10 RMSprop b128, one epoch ({source})",
        unit="s/epoch", scale=60000 / n, runs=runs, skipped=skipped,
        flops=step_flops(n),
        targets=[Target("tidu", "torch", 0.8, "W1 tidu fit <= 0.8x torch eager"),
                 Target("tidu", "numpy", 1.0, "W1 tidu fit <= hand NumPy")],
        products="matmul only",
        notes=["matmul only: the epoch's five matrix products alone (float32, preallocated "
               "outputs), the machine's rate on the step's products in the same rounds; "
               "'of products' = its time / the contender's",
               "tidu unchecked: optimizer.check_finite = False (the step's NaN/inf check "
               "and undo copy off), to show what that safety costs",
               f"{n} samples per timed epoch" + (" (scaled to 60,000)" if n < 60000 else "")])
