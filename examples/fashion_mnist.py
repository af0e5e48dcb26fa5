"""Fashion-MNIST with Text B's network: the same program as examples/text_b_mnist.py, run on
Zalando's clothing images, for 10 epochs (harder images than digits need a few more passes).

Run: python examples/fashion_mnist.py [--data DIR] [--epochs 10]
"""

from __future__ import annotations

import sys

import text_b_mnist


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--epochs" not in argv:
        argv += ["--epochs", "10"]
    return text_b_mnist.main(["--dataset", "fashion_mnist", *argv])


if __name__ == "__main__":
    main()
