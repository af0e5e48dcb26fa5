# The source of text_b.ipynb: edit here, then run python notebooks/_build.py
# %% [markdown]
# # Text B: the mathematical building blocks (the Keras MNIST program)
#
# Tensors and their operations, gradient-based optimization, and the Keras MNIST network,
# with what its training looks like from the inside: the history, the images it gets wrong,
# per-layer diagnostics and histograms, and what RMSprop (and its relatives) do with one
# parameter.
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
# ## Tensors: ndim, shape, dtype

# %%
for t in (tidu.tensor(12.0), tidu.tensor([12.0, 3.0, 6.0]), tidu.zeros(3, 5),
          tidu.zeros(2, 3, 5)):
    print(f"ndim {t.ndim}  shape {t.shape}  dtype {t.dtype}")

# %% [markdown]
# ## Element-wise operations, broadcasting, tensor dot, reshape

# %%
x = tidu.tensor(np.arange(-3.0, 3.0).reshape(2, 3))
print("relu:", tidu.relu(x).numpy().tolist())
print("x + [10, 20, 30] (broadcast):", (x + tidu.tensor([10.0, 20.0, 30.0])).numpy().tolist())
print("x . x^T:", (x @ x.T).numpy().tolist())
print("reshape (3, 2):", x.reshape(3, 2).numpy().tolist())

# %% [markdown]
# ## The gradient of a tensor function, and one step of gradient descent

# %%
W = tidu.tensor(np.array([[0.5, -0.2], [0.1, 0.4]]), requires_grad=True)
xb = tidu.tensor(np.array([[1.0, 2.0], [3.0, -1.0]]))
loss = ((xb @ W - 1.0) ** 2).mean()
loss.backward()
print("loss", loss.item(), "\ngradient\n", W.grad.numpy())
with tidu.no_grad():
    W -= 0.1 * W.grad
print("after one step: loss", ((xb @ W - 1.0) ** 2).mean().item())

# %% [markdown]
# ## The Keras MNIST program
# `Dense(512, relu) -> Dense(10, softmax)`, RMSprop, categorical cross-entropy, batches of
# 128. Here on a sample of MNIST (1,000 images, 2 epochs; all of it with
# `TIDU_NOTEBOOK_FULL=1`: 5 epochs of 60,000 images, 469 updates per epoch), or on the
# embedded 8x8 digits when MNIST is absent.

# %%
from tidu.datasets import to_categorical

if (DATA / "mnist").is_dir():
    (train_images, train_labels), (test_images, test_labels) = tidu.datasets.mnist.load_data(
        DATA / "mnist")
    side = 28
else:
    print("MNIST is absent: using the embedded 8x8 digits")
    (train_images, train_labels), (test_images, test_labels) = tidu.datasets.digits.load_data()
    train_images, test_images = train_images * 255 / 16, test_images * 255 / 16
    side = 8
n_train, n_test = (len(train_images), len(test_images)) if FULL else (1000, 300)
train_x = train_images[:n_train].reshape(-1, side * side).astype("float32") / 255
test_x = test_images[:n_test].reshape(-1, side * side).astype("float32") / 255
train_y = to_categorical(train_labels[:n_train], 10)
test_y = to_categorical(test_labels[:n_test], 10)

tidu.manual_seed(0)
network = tidu.Sequential([Dense(512, activation="relu", input_shape=(side * side,)),
                           Dense(10, activation="softmax")])
network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
network.summary()
diagnostics = tidu.callbacks.Diagnostics()
history = network.fit(train_x, train_y, epochs=5 if FULL else 2, batch_size=128, verbose=0,
                      validation_data=(test_x, test_y), callbacks=[diagnostics])
test_loss, test_acc = network.evaluate(test_x, test_y)
print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")

# %%
history.plot()

# %% [markdown]
# The test images it gets wrong, with the predicted and the true digit:

# %%
tidu.plot.plot_misclassified(test_x, test_labels[:n_test], network.predict(test_x),
                             max_images=8, cols=4)

# %% [markdown]
# ## Inside the training: per-layer diagnostics
# Per epoch: the outputs' mean and spread, dead ReLU units (0 for every training sample),
# the gradient and weight norms and the update-to-weight ratio (about 1e-3 is healthy).

# %%
print(diagnostics.table())
tidu.plot.plot_quantity(diagnostics, "update_ratio", "update / weight ratio")

# %%
tidu.plot.plot_layer_histograms(network, "gradients", train_x[:256], train_y[:256])

# %% [markdown]
# ## What the optimizer does with one parameter
# Text B's variants of gradient descent, each on the same noisy one-dimensional bowl
# (minimum at w = 2): the gradient it sees, the moment estimates it keeps, and the step it
# takes. Momentum accumulates past steps; RMSprop divides by the root of a running mean
# square of the gradient; Adam does both, with bias corrections.

# %%
fig, traces = tidu.plot.explain_optimizers(steps=40, lr=0.1)
fig

# %% [markdown]
# Weight decay: L2 added to the gradient (coupled, `Adam(weight_decay=...)`) is divided by
# Adam's normalisation, so it moves every weight by about the learning rate per step;
# decoupled decay (`AdamW`) shrinks the weight by a constant factor.

# %%
fig, _ = tidu.plot.explain_weight_decay()
fig

# %% [markdown]
# ## TensorBoard
# `tidu.callbacks.TensorBoard` writes the same history as TensorBoard event files, through
# the optional `tensorboardX` (`pip install 'tidu[tensorboard]'`); `tensorboard --logdir logs`
# shows them:
#
# ```python
# network.fit(train_x, train_y, epochs=5, batch_size=128,
#             callbacks=[tidu.callbacks.TensorBoard("logs", histogram_freq=1)])
# ```
