"""Microseconds per training step: eager tidu, compiled tidu, PyTorch eager, hand NumPy.

D:   Text D's Theano step (N = 400, 784 features, float64, full batch): outputs prediction
     and xent, updates w, b by gradient descent (lr 0.1) on mean(xent) + 0.01 |w|^2.
     - compiled: ``tidu.function`` of the literal program (the compiler rewrites
       log(p_1), log(1 - p_1) into softplus forms).
     - eager tidu and torch: the same step with the stable form written out,
       xent = y softplus(-z) + (1 - y) softplus(z), since eager code has no rewriter.
     - hand NumPy: sp = logaddexp(0, z), xent = sp - y z, p = 1 / (1 + exp(-z)).
MLP: tiny MLP 20-64-10, ReLU, batch 32, float32, softmax cross-entropy from logits
     (log_softmax, one-hot float labels), SGD lr 0.1, 30 batches cycled; outputs the loss.
     eager tidu uses nn.Dense + CategoricalCrossentropy(from_logits=True) + optim.SGD.

Every contender starts from the same initial values; before timing, a few steps of each
are checked against the hand-NumPy step (same outputs, same parameters), so equal work is
compared. Timing: ``--rounds`` rounds of ``--steps`` steps per contender, the contenders
interleaved round by round (order rotated); reported: the median us/step over rounds.
One thread by default (torch and, with threadpoolctl, BLAS): these steps are small, and on
a shared two-core machine two threads made torch's tiny MLP ~40x slower and halved BLAS.

Run: python bench/bench_compile.py [--rounds 11] [--steps 200] [--threads 1] [--json out.json]
     [--lines]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

import tidu
from tidu import nn, optim

LR_D, LR_MLP = 0.1, 0.1


# ---------------------------------------------------------------- machine
def matmul_gflops(dtype, n: int = 512, reps: int = 20) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    a @ a
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ a
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def machine() -> dict:
    import torch

    info = {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(),
            "matmul_gflops_f32_512": round(matmul_gflops(np.float32), 1),
            "matmul_gflops_f64_512": round(matmul_gflops(np.float64), 1)}
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads",
                                                         "version", "architecture")}
                               for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


# ---------------------------------------------------------------- D: Text D's step
def d_data(seed: int = 0):
    rng = np.random.RandomState(seed)
    x, y = rng.randn(400, 784), rng.randint(size=400, low=0, high=2).astype(np.float64)
    return x, y, rng.randn(784), 0.0


def d_compiled(x, y, w0, b0):
    T = tidu
    xs, ys = T.dmatrix("x"), T.dvector("y")
    w, b = T.shared(w0.copy(), name="w"), T.shared(b0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(xs, w) - b))
    prediction = p_1 > 0.5
    xent = -ys * T.log(p_1) - (1 - ys) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = T.function([xs, ys], [prediction, xent],
                       updates=((w, w - LR_D * gw), (b, b - LR_D * gb)))

    def run(steps):
        for _ in range(steps):
            out = train(x, y)
        return out
    return run, lambda: [w.get_value(), np.asarray(b.get_value())], train


def d_eager(x, y, w0, b0):
    w = tidu.tensor(w0.copy(), requires_grad=True)
    b = tidu.tensor(b0, dtype="float64", requires_grad=True)
    xt, yt = tidu.tensor(x), tidu.tensor(y)

    def run(steps):
        for _ in range(steps):
            z = xt @ w + b
            prediction = tidu.sigmoid(z).numpy() > 0.5
            xent = yt * tidu.softplus(-z) + (1 - yt) * tidu.softplus(z)
            cost = xent.mean() + 0.01 * (w ** 2).sum()
            w.grad = b.grad = None
            cost.backward()
            w.data -= LR_D * w.grad.data
            b.data -= LR_D * b.grad.data
        return [prediction, xent.numpy()]
    return run, lambda: [w.numpy(), b.numpy()], None


def d_torch(x, y, w0, b0):
    import torch

    F = torch.nn.functional
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run(steps):
        for _ in range(steps):
            z = xt @ w + b
            prediction = torch.sigmoid(z) > 0.5
            xent = yt * F.softplus(-z) + (1 - yt) * F.softplus(z)
            cost = xent.mean() + 0.01 * (w ** 2).sum()
            w.grad = b.grad = None
            cost.backward()
            with torch.no_grad():
                w.sub_(LR_D * w.grad)
                b.sub_(LR_D * b.grad)
        return [prediction.numpy(), xent.detach().numpy()]
    return run, lambda: [w.detach().numpy(), b.detach().numpy()], None


def d_numpy(x, y, w0, b0):
    w, b = w0.copy(), np.array(b0)
    n = len(y)

    def run(steps):
        for _ in range(steps):
            z = x @ w
            z += b
            p = 1 / (1 + np.exp(-z))
            prediction = p > 0.5
            xent = np.logaddexp(0, z)
            xent -= y * z
            d = p - y
            d /= n
            gw = x.T @ d
            gw += 0.02 * w
            w[...] -= LR_D * gw
            b[...] -= LR_D * d.sum()
        return [prediction, xent]
    return run, lambda: [w, b], None


# ---------------------------------------------------------------- MLP 20-64-10
def mlp_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((960, 20), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 960)]
    lim1, lim2 = np.sqrt(6 / 84), np.sqrt(6 / 74)  # glorot uniform
    init = [rng.uniform(-lim1, lim1, (20, 64)).astype(np.float32), np.zeros(64, np.float32),
            rng.uniform(-lim2, lim2, (64, 10)).astype(np.float32), np.zeros(10, np.float32)]
    xb = [x[j * 32:(j + 1) * 32] for j in range(30)]
    yb = [y[j * 32:(j + 1) * 32] for j in range(30)]
    return xb, yb, init


def mlp_compiled(xb, yb, init):
    x, y = tidu.fmatrix("x"), tidu.fmatrix("y")
    W1, b1, W2, b2 = params = [tidu.shared(p.copy(), name=n)
                               for p, n in zip(init, ("W1", "b1", "W2", "b2"))]
    h = tidu.relu(tidu.dot(x, W1) + b1)
    z = tidu.dot(h, W2) + b2
    loss = -(y * tidu.log_softmax(z)).sum(axis=1).mean()
    grads = tidu.grad(loss, params)
    train = tidu.function([x, y], loss,
                          updates=[(p, p - LR_MLP * g) for p, g in zip(params, grads)])

    def run(steps):
        for i in range(steps):
            out = train(xb[i % 30], yb[i % 30])
        return [out]
    return run, lambda: [p.get_value() for p in params], train


def mlp_eager(xb, yb, init):
    model = nn.Sequential([nn.Dense(64, activation="relu", input_shape=(20,)), nn.Dense(10)])
    for layer, (k, bias) in zip(model.layers, (init[:2], init[2:])):
        layer.kernel.data[...] = k
        layer.bias.data[...] = bias
    opt = optim.SGD(model.parameters(), lr=LR_MLP)
    loss_fn = tidu.losses.CategoricalCrossentropy(from_logits=True)
    xt = [tidu.Tensor(a) for a in xb]

    def run(steps):
        for i in range(steps):
            loss = loss_fn(yb[i % 30], model(xt[i % 30]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [loss.numpy()]
    return run, lambda: [p for layer in model.layers
                         for p in (layer.kernel.numpy(), layer.bias.numpy())], None


def mlp_torch(xb, yb, init):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    with torch.no_grad():
        for lin, (k, bias) in zip((model[0], model[2]), (init[:2], init[2:])):
            lin.weight.copy_(torch.from_numpy(k.T))
            lin.bias.copy_(torch.from_numpy(bias))
    opt = torch.optim.SGD(model.parameters(), lr=LR_MLP)
    xt = [torch.from_numpy(a) for a in xb]
    yt = [torch.from_numpy(a.argmax(1)) for a in yb]

    def run(steps):
        for i in range(steps):
            loss = torch.nn.functional.cross_entropy(model(xt[i % 30]), yt[i % 30])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [loss.item()]
    return run, lambda: [model[0].weight.detach().numpy().T, model[0].bias.detach().numpy(),
                         model[2].weight.detach().numpy().T, model[2].bias.detach().numpy()], None


def mlp_numpy(xb, yb, init):
    W1, b1, W2, b2 = params = [p.copy() for p in init]
    lr = np.float32(LR_MLP)

    def run(steps):
        nonlocal W1, b1, W2, b2  # updated in place
        for i in range(steps):
            x, y = xb[i % 30], yb[i % 30]
            h = x @ W1
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ W2
            z += b2
            z -= z.max(1, keepdims=True)
            e = np.exp(z)
            s = e.sum(1, keepdims=True)
            loss = (np.log(s).sum() - (y * z).sum()) / len(x)
            e /= s
            e -= y
            e /= len(x)  # dz
            dh = e @ W2.T
            dh *= h > 0
            W2 -= lr * (h.T @ e)
            b2 -= lr * e.sum(0)
            W1 -= lr * (x.T @ dh)
            b1 -= lr * dh.sum(0)
        return [loss]
    return run, lambda: params, None


# ---------------------------------------------------------------- running
WORKLOADS = {
    "D": ("Text D step (400x784, f64)", d_data,
          {"eager": d_eager, "compiled": d_compiled, "torch": d_torch, "numpy": d_numpy}),
    "MLP": ("tiny MLP 20-64-10 b32 (f32)", mlp_data,
            {"eager": mlp_eager, "compiled": mlp_compiled, "torch": mlp_torch,
             "numpy": mlp_numpy}),
}


def check_equal(key, data, steps: int = 3) -> None:
    """Every contender's outputs and parameters after ``steps`` steps equal hand NumPy's."""
    makers = WORKLOADS[key][2]
    tol = {"D": 1e-9, "MLP": 2e-5}[key]
    ref_run, ref_state, _ = makers["numpy"](*data)
    ref_out = ref_run(steps)
    ref_params = [np.array(p) for p in ref_state()]
    for name, make in makers.items():
        run, state, _ = make(*data)
        out = run(steps)
        for a, r in zip(out, ref_out):
            a, r = np.asarray(a), np.asarray(r)
            if a.dtype == bool:
                assert (a == r).mean() > 0.99, f"{key}/{name}: predictions differ"
            else:
                np.testing.assert_allclose(a, r, rtol=tol, atol=tol,
                                           err_msg=f"{key}/{name}: outputs differ")
        for p, r in zip(state(), ref_params):
            np.testing.assert_allclose(p, r, rtol=tol, atol=tol,
                                       err_msg=f"{key}/{name}: parameters differ")


def bench(key, rounds: int, steps: int) -> dict:
    title, make_data, makers = WORKLOADS[key]
    data = make_data()
    check_equal(key, data)
    runs = {}
    for name, make in makers.items():
        runs[name] = make(*data)[0]
        runs[name](10)  # warm-up (the compiled plan is built on the first call)
    times = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            runs[name](steps)
            times[name].append((time.perf_counter() - t0) / steps * 1e6)
    med = {n: statistics.median(t) for n, t in times.items()}
    return {"title": title, "us_per_step": med,
            "spread": {n: [min(t), max(t)] for n, t in times.items()},
            "vs_numpy": {n: med[n] / med["numpy"] for n in med},
            "vs_torch": {n: med[n] / med["torch"] for n in med}}


def line_costs(train, args, reps: int = 300) -> list:
    """Per-line costs of the compiled plan: each line of ``train.code`` timed on its own,
    the median over ``reps`` calls in us (the updates are applied ``reps`` times)."""
    src = train.code.splitlines()
    plan = next(iter(train._plans.values()))
    body, out = [], [src[0], "    _pc = _perf"]
    for line in src[1:]:
        stmt = line.strip()
        if not stmt or stmt.startswith("return"):
            out.append(line)
            continue
        body.append(stmt)
        out += ["    _t = _pc()", line, f"    _T[{len(body) - 1}].append(_pc() - _t)"]
    ns = dict(plan.__globals__)
    ns.update(_perf=time.perf_counter, _T=[[] for _ in body])
    exec(compile("\n".join(out), "<timed plan>", "exec"), ns)
    timed = ns["plan"]
    for _ in range(reps):
        timed(*args)
    return sorted(((statistics.median(t) * 1e6, s) for t, s in zip(ns["_T"], body)),
                  reverse=True)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--steps", type=int, default=200, help="steps per contender per round")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads and, with threadpoolctl, the BLAS threads")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--lines", action="store_true",
                    help="also time each line of the compiled plans")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    info = machine()
    print(f"numpy {info['numpy']}, torch {info['torch']} ({info['torch_threads']} threads), "
          f"matmul 512: {info['matmul_gflops_f32_512']} GFLOP/s f32, "
          f"{info['matmul_gflops_f64_512']} f64; BLAS {info['threadpools']}")
    results = {"machine": info, "rounds": args.rounds, "steps": args.steps, "workloads": {}}
    print(f"\n{'workload':30s} {'contender':9s} {'us/step':>9s} {'min-max':>15s} "
          f"{'/numpy':>7s} {'/torch':>7s}")
    for key in WORKLOADS:
        res = bench(key, args.rounds, args.steps)
        results["workloads"][key] = res
        for n, t in res["us_per_step"].items():
            lo, hi = res["spread"][n]
            print(f"{res['title']:30s} {n:9s} {t:9.1f} {lo:7.1f}-{hi:<7.1f} "
                  f"{res['vs_numpy'][n]:7.2f} {res['vs_torch'][n]:7.2f}")
        ok = res["vs_numpy"]["compiled"] <= 1.3
        print(f"{'':30s} compiled / numpy = {res['vs_numpy']['compiled']:.2f} "
              f"(target 1.3: {'met' if ok else 'NOT met'})")
    if args.lines:
        for key, (title, make_data, makers) in WORKLOADS.items():
            data = make_data()
            run, _, train = makers["compiled"](*data)
            run(2)
            call = (data[0], data[1]) if key == "D" else (data[0][0], data[1][0])
            costs = line_costs(train, train._check(call))
            total = sum(c for c, _ in costs)
            print(f"\n{title}: compiled plan, sum of per-line medians {total:.1f} us over "
                  f"{len(costs)} lines (timer overhead included); the costliest:")
            for c, s in costs[:12]:
                print(f"  {c:7.2f} us  {s}")
            results["workloads"][key]["lines"] = [[round(c, 3), s] for c, s in costs]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
    return results


if __name__ == "__main__":
    main()
