"""Train Text B's network on the embedded digits, export it to ONNX, run it in onnxruntime.

The network of text_b_digits.py (Dense(512, relu) -> Dense(10, softmax)) is trained for a few
epochs, written with ``tidu.onnx.export`` and run by onnxruntime on the test images; the
script prints the largest difference between onnxruntime's probabilities and
``model.predict``'s, and both accuracies. The file's input is named "input" (shape
(batch, 64), float32) and its output "output" (shape (batch, 10)).

Needs the extras: pip install -e ".[digits,onnx]"
Run: python examples/export_onnx.py [--out digits.onnx]
"""

from __future__ import annotations

import argparse

import numpy as np

import tidu
import tidu.onnx
from tidu.datasets import digits, to_categorical
from tidu.nn import Dense


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="digits.onnx", help="where to write the ONNX file")
    args = ap.parse_args(argv)
    import onnxruntime as ort

    tidu.manual_seed(args.seed)
    (train_images, train_labels), (test_images, test_labels) = digits.load_data()
    train_images = train_images.reshape((len(train_images), 64)).astype("float32") / 16
    test_images = test_images.reshape((len(test_images), 64)).astype("float32") / 16

    network = tidu.Sequential([
        Dense(512, activation="relu", input_shape=(64,)),
        Dense(10, activation="softmax"),
    ])
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    network.fit(train_images, to_categorical(train_labels), epochs=args.epochs,
                batch_size=128, verbose=2)

    tidu.onnx.export(network, args.out)
    session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    (onnx_probs,) = session.run(["output"], {"input": test_images})
    tidu_probs = network.predict(test_images)

    max_diff = float(np.abs(onnx_probs - tidu_probs).max())
    tidu_acc = float(np.mean(tidu_probs.argmax(1) == test_labels))
    onnx_acc = float(np.mean(onnx_probs.argmax(1) == test_labels))
    print(f"wrote {args.out}: input {session.get_inputs()[0].shape}, "
          f"output {session.get_outputs()[0].shape}")
    print(f"largest |onnxruntime - predict|: {max_diff:.3g}")
    print(f"test accuracy: tidu {tidu_acc:.4f}, onnxruntime {onnx_acc:.4f}")
    return {"max_diff": max_diff, "tidu_acc": tidu_acc, "onnx_acc": onnx_acc,
            "path": args.out}


if __name__ == "__main__":
    main()
