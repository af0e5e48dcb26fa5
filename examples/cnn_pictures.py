"""Pictures of a trained MNIST convnet: the first layer's filters and one image's feature maps.

Trains Keras's simple MNIST convnet (examples/mnist_convnet.py) briefly, then draws
- ``mnist_filters.png``: the 32 learned 3x3 kernels of the first Conv2D (red positive, blue
  negative): edge and stroke detectors;
- ``mnist_feature_maps.png``: one test digit and what each of those 32 filters makes of it
  after the ReLU (26x26 maps), then the 64 maps of the second convolution (11x11).
Needs matplotlib (``pip install "tidu[plot]"``).

Run: python examples/cnn_pictures.py [--data DIR] [--epochs 1] [--limit 12000] [--out DIR]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from _common import data_root, parser
from mnist_convnet import build_model

import tidu
from tidu import keras


def plot_filters(kernel: np.ndarray, path: Path):
    """A grid of the kernels of shape (kh, kw, 1, filters), each on its own symmetric scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = kernel.shape[-1]
    cols = 8
    fig, axes = plt.subplots(n // cols, cols, figsize=(cols * 1.1, n // cols * 1.1))
    for i, ax in enumerate(axes.flat):
        k = kernel[:, :, 0, i]
        lim = np.abs(k).max() or 1.0
        ax.imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("first Conv2D layer: 32 learned 3x3 filters")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_feature_maps(image: np.ndarray, maps1: np.ndarray, maps2: np.ndarray, path: Path):
    """The image, its 32 first-layer maps and 64 second-layer maps (channels last)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 7.5))
    grid = fig.add_gridspec(8, 17)
    ax = fig.add_subplot(grid[1:4, 0:3])
    ax.imshow(image[:, :, 0], cmap="gray_r")
    ax.set_title("input"), ax.set_xticks([]), ax.set_yticks([])
    for i in range(32):
        ax = fig.add_subplot(grid[i // 8, 4 + i % 8])
        ax.imshow(maps1[:, :, i], cmap="viridis")
        ax.set_xticks([]), ax.set_yticks([])
    for i in range(64):
        ax = fig.add_subplot(grid[4 + i // 16, 1 + i % 16])
        ax.imshow(maps2[:, :, i], cmap="viridis")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("feature maps: conv 1 (32 x 26x26, top) and conv 2 (64 x 11x11, bottom)")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    ap = parser(__doc__.split("\n")[0], epochs=1)
    ap.set_defaults(limit=12000)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" /
                                         "images"))
    args = ap.parse_args(argv)
    root = data_root(args.data)
    if root is not None:
        os.environ["TIDU_DATASETS"] = str(root)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = np.expand_dims(x_train[:args.limit].astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    model = build_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train[:args.limit], batch_size=128, epochs=args.epochs,
              verbose=args.verbose)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy after {args.epochs} epoch(s) on {len(x_train)} images: {acc:.4f}")

    conv1, pool1, conv2 = model.layers[0], model.layers[1], model.layers[2]
    image = x_test[:1]
    with tidu.no_grad():
        maps1 = conv1(image)
        maps2 = conv2(pool1(maps1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot_filters(conv1.kernel.numpy(), out / "mnist_filters.png")
    plot_feature_maps(image[0], maps1.numpy()[0], maps2.numpy()[0],
                      out / "mnist_feature_maps.png")
    print(f"wrote {out / 'mnist_filters.png'} and {out / 'mnist_feature_maps.png'}")
    return {"test_acc": acc, "files": [out / "mnist_filters.png",
                                       out / "mnist_feature_maps.png"],
            "maps1": maps1.numpy(), "maps2": maps2.numpy(), "model": model}


if __name__ == "__main__":
    main()
