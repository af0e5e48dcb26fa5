# The source of text_a.ipynb: edit here, then run python notebooks/_build.py
# %% [markdown]
# # Text A: neural-network basics through logistic regression
#
# Derivatives as slopes, the computation graph of J = 3(a + bc), the logistic-regression
# graph and its derivatives, vectorization, and logistic regression as a single neuron on
# "cat vs non-cat", written the text's way (with tidu computing the gradients) and then
# Keras's way.
# %%
from IPython import get_ipython

get_ipython().run_line_magic("matplotlib", "inline")  # figures shown inline
import os
import pathlib

import numpy as np
from IPython.display import display

import tidu
import tidu.plot
from tidu.nn import Dense

DATA = pathlib.Path(os.environ.get("TIDU_DATASETS", "../../shared/datasets"))
FULL = bool(os.environ.get("TIDU_NOTEBOOK_FULL"))  # unset in CI: small samples, few epochs
print("tidu", getattr(tidu, "__version__", ""), "| data sets:", DATA.resolve(),
      "found" if DATA.is_dir() else "absent")

# %% [markdown]
# ## Derivatives as slopes
# f(a) = 4a has slope 4 everywhere; f(a) = a² has slope 4 at a = 2 and 10 at a = 5. The text
# nudges a by 0.001; tidu computes the derivative exactly.

# %%
for a0 in (2.0, 5.0):
    a = tidu.tensor(a0, dtype="float64", requires_grad=True)
    (slope,) = tidu.grad(a ** 2, [a])
    nudge = ((a0 + 0.001) ** 2 - a0 ** 2) / 0.001
    print(f"a = {a0}: d(a^2)/da = {slope.item():g} (nudge of 0.001: {nudge:.3f})")

# %% [markdown]
# ## The computation graph of J(a, b, c) = 3(a + bc)
# Forward, left to right: u = bc = 8, v = a + u = 15, J = 3v = 45. Backward, right to left by
# the chain rule: dJ/dv = 3, dJ/da = 3, dJ/du = 3, dJ/db = 3c = 6, dJ/dc = 3b = 12.
# `retain_grad()` keeps the intermediate gradients; `backward(retain_graph=True)` keeps the
# graph so that it can be drawn (`tidu.plot.plot_graph`, from `tidu.viz`).

# %%
a, b, c = (tidu.tensor(v, requires_grad=True, name=n) for v, n in ((7.0, "a"), (4.0, "b"),
                                                                     (2.0, "c")))
u = b * c
v = a + u
J = 3 * v
for t, name in ((u, "u"), (v, "v"), (J, "J")):
    t.name = name
    t.retain_grad()
J.backward(retain_graph=True)
print("J =", J.item(), "| dJ/da, dJ/db, dJ/dc =", a.grad.item(), b.grad.item(), c.grad.item())
tidu.plot.plot_graph(J, title="J = 3(a + bc): values forward, gradients backward")

# %% [markdown]
# ## The logistic-regression graph for one example
# z = w1 x1 + w2 x2 + b, a = sigmoid(z), L = -(y log a + (1 - y) log(1 - a)); by hand:
# dz = a - y, dw1 = x1 dz, dw2 = x2 dz, db = dz.

# %%
x1, x2, y = 2.0, -1.0, 1.0
w1, w2, b = (tidu.tensor(v, dtype="float64", requires_grad=True, name=n)
             for v, n in ((0.3, "w1"), (0.5, "w2"), (0.1, "b")))
z = w1 * x1 + w2 * x2 + b
a = tidu.sigmoid(z)
L = -(y * tidu.log(a) + (1 - y) * tidu.log(1 - a))
for t, name in ((z, "z"), (a, "a"), (L, "L")):
    t.name = name
    t.retain_grad()
L.backward(retain_graph=True)
dz = a.item() - y
print(f"dz = a - y = {dz:.6f}; autodiff: {z.grad.item():.6f}")
print(f"dw1 = x1 dz = {x1 * dz:.6f}; autodiff: {w1.grad.item():.6f}")
print(f"dw2 = x2 dz = {x2 * dz:.6f}; autodiff: {w2.grad.item():.6f}")
assert np.isclose(z.grad.item(), dz) and np.isclose(w1.grad.item(), x1 * dz)
tidu.plot.plot_graph(L, title="one example through logistic regression")

# %% [markdown]
# ## Exercise 1: sigmoid and its derivative s(1 - s)

# %%
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)


xs = np.array([1.0, 2.0, 3.0])
t = tidu.tensor(xs, requires_grad=True)
(g,) = tidu.grad(tidu.sigmoid(t).sum(), [t])
print("sigmoid:", sigmoid(xs), "\nderivative:", sigmoid_derivative(xs), "\nautodiff:  ",
      g.numpy())

# %% [markdown]
# ## Vectorization: a Python loop against np.dot

# %%
import time

rng = np.random.default_rng(0)
p, q = rng.random(100_000), rng.random(100_000)
t0 = time.perf_counter()
loop = 0.0
for i in range(len(p)):
    loop += p[i] * q[i]
t1 = time.perf_counter()
dot = np.dot(p, q)
t2 = time.perf_counter()
print(f"loop {1e3 * (t1 - t0):.1f} ms, np.dot {1e3 * (t2 - t1):.3f} ms, same value: "
      f"{np.isclose(loop, dot)}")

# %% [markdown]
# ## Exercise 2: a single neuron on cat vs non-cat
# 209 training and 50 test RGB images of 64x64, flattened to X of shape (12288, m) and divided
# by 255. The text's functions, with tidu computing dJ/dw and dJ/db.

# %%
have_cats = (DATA / "catvnoncat").is_dir()
if have_cats:
    (x_train, y_train), (x_test, y_test), classes = tidu.datasets.catvnoncat.load_data(
        DATA / "catvnoncat")
    X_train = x_train.reshape(len(x_train), -1).T / 255.0
    X_test = x_test.reshape(len(x_test), -1).T / 255.0
    Y_train, Y_test = y_train.reshape(1, -1), y_test.reshape(1, -1)
    print("X_train", X_train.shape, "X_test", X_test.shape, "classes", list(classes))
else:
    print("catvnoncat is absent: the cells below are skipped")

# %%
def initialize_with_zeros(dim):
    return (tidu.zeros(dim, 1, dtype="float64", requires_grad=True),
            tidu.tensor(0.0, dtype="float64", requires_grad=True))


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = tidu.sigmoid(w.T @ X + b)
    cost = -(Y * tidu.log(A) + (1 - Y) * tidu.log(1 - A)).sum() / m
    dw, db = tidu.grad(cost, [w, b])
    return {"dw": dw.numpy(), "db": db.numpy()}, cost.item()


def optimize(w, b, X, Y, num_iterations, learning_rate):
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w.data -= learning_rate * grads["dw"]
        b.data -= learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            print(f"Cost after iteration {i}: {cost:f}")
    return w, b, costs


def predict(w, b, X):
    with tidu.no_grad():
        return (tidu.sigmoid(w.T @ X + b).numpy() > 0.5).astype(np.float64)


if have_cats:
    iterations = 2000 if FULL else 120  # the text runs 2000
    w, b = initialize_with_zeros(X_train.shape[0])
    w, b, costs = optimize(w, b, X_train, Y_train, iterations, learning_rate=0.005)
    for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
        print(f"{name} accuracy: {100 - np.mean(np.abs(predict(w, b, X) - Y)) * 100:g} %")

# %% [markdown]
# The test images the neuron gets wrong:

# %%
if have_cats:
    names = [c.decode() if isinstance(c, bytes) else str(c) for c in classes]
    display(tidu.plot.plot_misclassified(x_test, y_test, predict(w, b, X_test)[0],
                                         class_names=names, max_images=8, cols=4))

# %% [markdown]
# ## The same neuron, Keras's way
# `Dense(1, activation="sigmoid")`, binary cross-entropy, SGD, with a validation curve;
# `History.plot()` draws loss and accuracy per epoch.

# %%
if have_cats:
    tidu.manual_seed(0)
    neuron = tidu.Sequential([Dense(1, activation="sigmoid", kernel_initializer="zeros",
                                    input_shape=(12288,))])
    neuron.compile(optimizer=tidu.optim.SGD(learning_rate=0.005),
                   loss="binary_crossentropy", metrics=["accuracy"])
    history = neuron.fit(X_train.T.astype("float32"), y_train.reshape(-1, 1), epochs=30 if FULL
                         else 10, batch_size=209, verbose=0,
                         validation_data=(X_test.T.astype("float32"), y_test.reshape(-1, 1)))
    display(history.plot())
