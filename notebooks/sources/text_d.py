# The source of text_d.ipynb: edit here, then run python notebooks/_build.py
# %% [markdown]
# # Text D: gradients in code
#
# Theano's logistic regression run by tidu as written, the gradient of a scalar field,
# backpropagation written by hand against autodiff, a finite-difference image gradient, and
# scipy.optimize with tidu's derivatives.
# %%
from IPython import get_ipython

get_ipython().run_line_magic("matplotlib", "inline")  # figures shown inline
import os
import pathlib

import numpy as np

import tidu
import tidu.plot

DATA = pathlib.Path(os.environ.get("TIDU_DATASETS", "../../shared/datasets"))
FULL = bool(os.environ.get("TIDU_NOTEBOOK_FULL"))  # unset in CI: small samples, few epochs
print("tidu", getattr(tidu, "__version__", ""), "| data sets:", DATA.resolve(),
      "found" if DATA.is_dir() else "absent")

# %% [markdown]
# ## The Theano program, with `theano` and `T` bound to tidu
# N = 400 random samples of 784 features, random 0/1 targets; a cost with an L2 penalty;
# `T.grad`, and `theano.function` with updates, compiled once.

# %%
import numpy

import tidu as T
import tidu as theano

rng = numpy.random
rng.seed(0)
N, feats = 400, 784
D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
training_steps = 10000 if FULL else 500

x = T.dmatrix("x")
y = T.dvector("y")
w = theano.shared(rng.randn(feats), name="w")
b = theano.shared(0., name="b")
p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
prediction = p_1 > 0.5
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w ** 2).sum()
gw, gb = T.grad(cost, [w, b])
train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
predict = theano.function(inputs=[x], outputs=prediction)
costs = []
for _ in range(training_steps):
    pred, err = train(D[0], D[1])
    costs.append(float(err.mean()))
print("training accuracy:", numpy.mean(predict(D[0]) == D[1]))
print("rewrites by theano.function:", dict(sorted(train.stats.items())))
print("prediction on 30 new samples:", predict(rng.randn(30, feats)).astype(int))

# %%
fig = tidu.plot.figure(5, 3)
ax = fig.add_subplot()
ax.plot(costs)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_title("mean cross-entropy")
fig

# %% [markdown]
# ## grad: the gradient of a scalar field
# f(x, y) = x² y + sin(y) has gradient (2xy, x² + cos y).

# %%
from tidu import func


def f(v):
    return v[0] ** 2 * v[1] + tidu.sin(v[1])


v = np.array([1.5, 0.5])
print("tidu.func.grad:", func.grad(f)(v), " by hand:",
      [2 * v[0] * v[1], v[0] ** 2 + np.cos(v[1])])

# %% [markdown]
# ## Backpropagation written by hand: Linear -> ReLU -> Linear -> MSE
# Each function stores the gradient of the loss with respect to its input in `.g`, walking
# backward from the loss; then tidu's autodiff must agree.

# %%
class Arr(np.ndarray):
    """An array that can carry a .g attribute (the text's style)."""


def arr(a):
    return np.asarray(a, dtype=np.float64).view(Arr)


def lin(x, w, b):
    return x @ w + b


def relu(x):
    return np.maximum(x, 0.0)


def mse(out, targ):
    return ((out.squeeze(-1) - targ) ** 2).mean()


def mse_grad(inp, targ):
    inp.g = 2.0 * (inp.squeeze(-1) - targ)[:, None] / inp.shape[0]


def relu_grad(inp, out):
    inp.g = (inp > 0).astype(np.float64) * out.g


def lin_grad(inp, out, w, b):
    inp.g = out.g @ w.T
    w.g = inp.T @ out.g
    b.g = out.g.sum(0)


if (DATA / "mnist").is_dir():
    (xi, yi), _ = tidu.datasets.mnist.load_data(DATA / "mnist")
    xd = xi[:200].reshape(200, -1) / 255.0
else:
    print("MNIST is absent: using the embedded 8x8 digits")
    (xi, yi), _ = tidu.datasets.digits.load_data()
    xd = xi[:200].reshape(200, -1) / 16.0
yd = yi[:200].astype(np.float64)
rng = np.random.default_rng(0)
nh = 50
w1, b1 = arr(rng.normal(size=(xd.shape[1], nh)) / np.sqrt(xd.shape[1])), arr(np.zeros(nh))
w2, b2 = arr(rng.normal(size=(nh, 1)) / np.sqrt(nh)), arr(np.zeros(1))
inp = arr(xd)

l1 = arr(lin(inp, w1, b1))
l2 = arr(relu(l1))
out = arr(lin(l2, w2, b2))
loss = mse(out, yd)
mse_grad(out, yd)
lin_grad(l2, out, w2, b2)
relu_grad(l1, l2)
lin_grad(inp, l1, w1, b1)

params = [tidu.tensor(np.asarray(p), requires_grad=True) for p in (w1, b1, w2, b2)]
tw1, tb1, tw2, tb2 = params
t_loss = ((((tidu.tensor(xd) @ tw1 + tb1).relu() @ tw2 + tb2).squeeze(-1) - yd) ** 2).mean()
t_loss.backward()
for name, mine, t in zip(("w1", "b1", "w2", "b2"), (w1, b1, w2, b2), params):
    print(f"{name}: np.allclose(hand-written, autodiff) = {np.allclose(mine.g, t.grad.numpy())}")
print("loss", loss, "autodiff loss", t_loss.item())

# %% [markdown]
# The same network's training step as a graph, with values and gradients (a tiny version:
# 3 inputs, 2 hidden units, so that every value fits in a box):

# %%
xs = tidu.tensor(np.array([[1.0, -2.0, 0.5]]), name="x")
W1 = tidu.tensor(np.array([[0.2, -0.4], [0.1, 0.3], [-0.5, 0.2]]), requires_grad=True,
                 name="W1")
W2 = tidu.tensor(np.array([[0.7], [-0.3]]), requires_grad=True, name="W2")
h = (xs @ W1).relu()
o = h @ W2
step_loss = ((o - 1.0) ** 2).mean()
for t, name in ((h, "h"), (o, "o"), (step_loss, "loss")):
    t.name = name
    t.retain_grad()
step_loss.backward(retain_graph=True)
tidu.plot.plot_graph(step_loss, max_elements=6, title="one step: values and gradients")

# %% [markdown]
# ## A finite-difference gradient along an axis: img[:, 1:] - img[:, :-1]

# %%
img = xi[0].astype(np.float64)
dx = img[:, 1:] - img[:, :-1]
dy = img[1:, :] - img[:-1, :]
fig = tidu.plot.figure(7.5, 2.6)
for ax, a, title in zip(fig.subplots(1, 3), (img, dx, dy),
                        ("image", "img[:, 1:] - img[:, :-1]", "img[1:] - img[:-1]")):
    ax.imshow(a, cmap="gray")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
fig

# %% [markdown]
# ## scipy.optimize with tidu's derivatives
# x² - 4x + 8 from x0 = 1.3 (minimum 4 at x = 2) with methods of every family; `jac` comes
# from autodiff and `hessp` from double backward.

# %%
try:
    import scipy.optimize
except ImportError:
    scipy = None
    print("scipy is not installed: pip install 'tidu[scipy]'")
if scipy is not None:
    import tidu.optimize

    def parabola(x):
        return x ** 2 - 4 * x + 8

    for method in ("Nelder-Mead", "Powell", "CG", "BFGS", "L-BFGS-B", "Newton-CG"):
        res = tidu.optimize.minimize(parabola, 1.3, method=method)
        print(f"{method:<12} x = {float(res.x):.6f}  f = {float(res.fun):.6f}  "
              f"evaluations {res.nfev}")

# %% [markdown]
# scipy's `check_grad` compares tidu's gradient of a logistic-regression cost with finite
# differences, and L-BFGS-B minimizes it:

# %%
if scipy is not None:
    rng = np.random.default_rng(0)
    Xl = rng.normal(size=(20, 100))
    Yl = (Xl[0] + 0.5 * Xl[1] > 0).astype(np.float64)[None]
    wl = tidu.zeros(20, 1, dtype="float64", requires_grad=True)
    bl = tidu.tensor(0.0, dtype="float64", requires_grad=True)

    def cross_entropy():
        z = wl.T @ Xl + bl
        return (tidu.softplus(z) - Yl * z).mean()

    obj = tidu.optimize.Objective([wl, bl], cross_entropy)
    print("check_grad:", scipy.optimize.check_grad(obj.fun, obj.jac, obj.vector()))
    res = tidu.optimize.minimize_model([wl, bl], cross_entropy, method="L-BFGS-B")
    print(f"L-BFGS-B: cost {res.fun:.4f} after {res.nfev} evaluations")
