# The source of text_c.ipynb: edit here, then run python notebooks/_build.py
# %% [markdown]
# # Text C: theory of neural networks
#
# The perceptron and XOR, activations, initialization, regularization and dropout: each with
# a picture of what the network does.
# %%
from IPython import get_ipython

get_ipython().run_line_magic("matplotlib", "inline")  # figures shown inline
import os
import pathlib

import numpy as np

import tidu
import tidu.plot
from tidu.nn import Dense

DATA = pathlib.Path(os.environ.get("TIDU_DATASETS", "../../shared/datasets"))
FULL = bool(os.environ.get("TIDU_NOTEBOOK_FULL"))  # unset in CI: small samples, few epochs
print("tidu", getattr(tidu, "__version__", ""), "| data sets:", DATA.resolve(),
      "found" if DATA.is_dir() else "absent")

# %% [markdown]
# ## The perceptron: sign(w.x + b)
# Trained with its own rule, w += lr (y - f(x)) x, sample by sample, it learns AND and OR; on
# XOR no line separates the classes (Minsky, 1969), so at least one corner stays wrong.

# %%
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def perceptron(x, y, epochs=20, lr=0.1):
    tidu.manual_seed(0)
    unit = Dense(1, activation="sign", input_shape=(2,),
                 kernel_initializer=tidu.initializers.RandomNormal(stddev=0.1))
    for _ in range(epochs):
        for xi, yi in zip(x, y):
            with tidu.no_grad():
                fx = unit(xi[None]).item()
            if fx != yi:
                unit.kernel.data[:, 0] += lr * (yi - fx) * xi
                unit.bias.data[0] += lr * (yi - fx)
    return unit


fig = tidu.plot.figure(10, 3.2)
for ax, (name, truth) in zip(fig.subplots(1, 3), TRUTH.items()):
    y = 2 * np.array(truth, dtype=np.float32) - 1
    unit = perceptron(X, y)
    with tidu.no_grad():
        acc = np.mean(unit(X).numpy()[:, 0] == y)
    tidu.plot.plot_decision_boundary(unit, X, y, threshold=0.0, ax=ax,
                                     title=f"perceptron on {name}: {acc:.0%}")
    print(f"perceptron on {name}: {acc:.0%} of the corners right")
fig

# %% [markdown]
# ## A multilayer perceptron learns XOR
# 2 -> 8 (tanh) -> 1 (sigmoid), binary cross-entropy, Adam.

# %%
y_xor = np.array(TRUTH["XOR"], dtype=np.float32)[:, None]
tidu.manual_seed(0)
mlp = tidu.Sequential([Dense(8, activation="tanh", input_shape=(2,)),
                       Dense(1, activation="sigmoid")])
mlp.compile(optimizer=tidu.optim.Adam(learning_rate=0.05), loss="binary_crossentropy",
            metrics=["accuracy"])
mlp.fit(X, y_xor, batch_size=4, epochs=300, verbose=0, seed=0)
print("P(y=1) at (0,0) (0,1) (1,0) (1,1):", mlp.predict(X)[:, 0].round(3))
tidu.plot.plot_decision_boundary(mlp, X, y_xor, title="2-8-1 MLP on XOR")

# %% [markdown]
# ## Activation functions and their slopes
# Sigmoid's slope is at most 0.25 and vanishes where it saturates; tanh is zero centred with
# slope up to 1; ReLU's slope is 1 wherever it is active, 0 elsewhere.

# %%
z = tidu.tensor(np.linspace(-6, 6, 241), requires_grad=True)
fig = tidu.plot.figure(9, 3)
axes = fig.subplots(1, 3)
for ax, name in zip(axes, ("sigmoid", "tanh", "relu")):
    out = getattr(tidu, name)(z)
    (slope,) = tidu.grad(out.sum(), [z])
    ax.plot(z.numpy(), out.numpy(), label=name)
    ax.plot(z.numpy(), slope.numpy(), "--", label="slope")
    ax.set_title(name)
    ax.legend()
    ax.grid(alpha=0.3)
fig

# %% [markdown]
# The same network with each activation on two half moons, watched by
# `tidu.callbacks.Diagnostics`: the saturated fraction (sigmoid, tanh), the dead ReLUs and the
# gradient that reaches the first layer.

# %%
def moons(n=400, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y.astype(np.float32)[:, None]


xm, ym = moons()
fig = tidu.plot.figure(10, 3.2)
for ax, act in zip(fig.subplots(1, 3), ("sigmoid", "tanh", "relu")):
    tidu.manual_seed(0)
    net = tidu.Sequential([Dense(16, activation=act, input_shape=(2,), name="hidden_1"),
                           Dense(16, activation=act, name="hidden_2"),
                           Dense(1, activation="sigmoid", name="output")])
    net.compile(optimizer=tidu.optim.SGD(learning_rate=0.1, momentum=0.9),
                loss="binary_crossentropy", metrics=["accuracy"])
    diag = tidu.callbacks.Diagnostics()
    hist = net.fit(xm, ym, batch_size=32, epochs=30 if FULL else 10, verbose=0, seed=0,
                   callbacks=[diag])
    print(f"--- {act}: accuracy {hist.history['accuracy'][-1]:.1%}")
    print(diag.table())
    tidu.plot.plot_decision_boundary(net, xm, ym, ax=ax, title=act)
fig

# %% [markdown]
# Without activations the 4-5-3 MLP H = XW_h + b_h, O = HW_o + b_o collapses to one linear
# layer with kernel W_h W_o and bias b_h W_o + b_o:

# %%
tidu.manual_seed(0)
two = tidu.Sequential([Dense(5, input_shape=(4,), bias_initializer="ones"), Dense(3)])
xs = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
(w_h, b_h), (w_o, b_o) = ((layer.kernel.numpy(), layer.bias.numpy()) for layer in two.layers)
print("max |two layers - one layer| =",
      np.abs(two.predict(xs) - (xs @ (w_h @ w_o) + b_h @ w_o + b_o)).max())

# %% [markdown]
# ## Initialization
# With every weight 0 all hidden units compute the same function and get the same gradient:
# they stay identical. Small random weights, N(0, 0.01), break the symmetry.

# %%
for init in ("zeros", tidu.initializers.RandomNormal(stddev=0.01)):
    tidu.manual_seed(0)
    net = tidu.Sequential([Dense(8, activation="sigmoid", input_shape=(2,),
                                 kernel_initializer=init), Dense(1, activation="sigmoid",
                                                                 kernel_initializer=init)])
    net.compile(optimizer=tidu.optim.SGD(learning_rate=0.5), loss="binary_crossentropy")
    net.fit(xm, ym, batch_size=32, epochs=5, verbose=0, seed=0)
    k = net.layers[0].kernel.numpy()
    print(f"{init if isinstance(init, str) else 'N(0, 0.01)':>10}: distinct hidden units "
          f"{len(np.unique(k.round(6), axis=1).T)} of 8")

# %% [markdown]
# ## Overfitting, L2 regularization and dropout
# A wide network on a few hundred MNIST images with 20% of the labels replaced by random
# digits: the plain network memorizes the noise; L2 (weight decay) and dropout resist it.

# %%
from tidu.datasets import to_categorical
from tidu.nn import Dropout
from tidu.nn.regularizers import L2

if (DATA / "mnist").is_dir():
    (xi, yi), (xt, yt) = tidu.datasets.mnist.load_data(DATA / "mnist")
    side = 28
else:
    print("MNIST is absent: using the embedded 8x8 digits")
    (xi, yi), (xt, yt) = tidu.datasets.digits.load_data()
    xi, xt, side = xi * 255 / 16, xt * 255 / 16, 8
n = 1000 if FULL else 300
xtr = xi[:n].reshape(n, -1).astype("float32") / 255
xte = xt[:300].reshape(300, -1).astype("float32") / 255
rng = np.random.default_rng(0)
noisy = yi[:n].copy()
picked = rng.random(n) < 0.2
noisy[picked] = rng.integers(0, 10, picked.sum())

histories, nets = {}, {}
for name, l2, p in (("plain", 0.0, 0.0), ("L2", 1e-3, 0.0), ("dropout", 0.0, 0.5)):
    tidu.manual_seed(0)
    layers = [Dense(512 if FULL else 128, activation="relu", input_shape=(side * side,),
                    kernel_regularizer=L2(l2) if l2 else None)]
    layers += [Dropout(p)] if p else []
    layers += [Dense(10, activation="softmax")]
    net = tidu.Sequential(layers)
    net.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    histories[name] = net.fit(xtr, to_categorical(noisy, 10), batch_size=32,
                              epochs=40 if FULL else 10, verbose=0, seed=0,
                              validation_data=(xte, to_categorical(yt[:300], 10)))
    nets[name] = net
    h = histories[name].history
    print(f"{name:>8}: train accuracy {h['accuracy'][-1]:.1%}, "
          f"test accuracy {h['val_accuracy'][-1]:.1%}")

# %%
fig = tidu.plot.figure(9, 3)
axes = fig.subplots(1, 2)
for name, h in histories.items():
    axes[0].plot(h.history["accuracy"], label=name)
    axes[1].plot(h.history["val_accuracy"], label=name)
for ax, title in zip(axes, ("train accuracy (noisy labels)", "test accuracy")):
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.grid(alpha=0.3)
fig

# %% [markdown]
# L2 keeps the weights small (the first layer's kernels):

# %%
tidu.plot.plot_histograms({name: net.layers[0].kernel.numpy() for name, net in nets.items()},
                          title="first-layer weights")

# %% [markdown]
# Dropout drops each unit with probability p during training and scales the survivors by
# 1/(1 - p), so that training and testing agree on average:

# %%
drop = Dropout(0.5)
ones = tidu.ones(10000, 8)
drop.train()
print("training: mean", drop(ones).numpy().mean().round(3), "fraction zero",
      (drop(ones).numpy() == 0).mean().round(3))
drop.eval()
print("testing: mean", drop(ones).numpy().mean())
