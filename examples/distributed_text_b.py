"""Text B's network trained data-parallel over MPI: the digits program on N processes.

Each of the N processes holds the data, takes its slice of every global batch of 128,
and the gradients are averaged with Allreduce before each RMSprop update; rank 0 prints
and writes the checkpoint. The weights equal those of ``python examples/text_b_digits.py``
to float32 rounding (same seed, same global batches).

Run: mpirun -n 2 python examples/distributed_text_b.py [--epochs 20] [--checkpoint FILE]
(as root add --allow-run-as-root; plain ``python examples/distributed_text_b.py`` runs it
on one process). See docs/distributed.md.
"""

from __future__ import annotations

import argparse

import tidu
import tidu.distributed as dist
from tidu.callbacks import ModelCheckpoint
from tidu.datasets import digits, to_categorical
from tidu.nn import Dense


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", help="write the best weights here (rank 0 only)")
    args = ap.parse_args(argv)
    dist.init()  # MPI under mpirun, else one process
    tidu.manual_seed(args.seed)

    (train_images, train_labels), (test_images, test_labels) = digits.load_data()
    train_images = train_images.reshape((len(train_images), 64)).astype("float32") / 16
    test_images = test_images.reshape((len(test_images), 64)).astype("float32") / 16
    train_labels, test_labels = to_categorical(train_labels), to_categorical(test_labels)

    network = tidu.Sequential([
        Dense(512, activation="relu", input_shape=(64,)),
        Dense(10, activation="softmax"),
    ])
    network.compile(optimizer=dist.DistributedOptimizer("rmsprop"),
                    loss="categorical_crossentropy", metrics=["accuracy"])
    if dist.is_root():
        network.summary()
        print(f"{dist.size()} rank(s), global batch 128 ({128 // dist.size()} rows each)")
    callbacks = [ModelCheckpoint(args.checkpoint, monitor="loss", save_best_only=True,
                                 save_weights_only=True)] if args.checkpoint else []
    dist.fit(network, train_images, train_labels, epochs=args.epochs, batch_size=128,
             verbose=2, seed=args.seed, callbacks=callbacks)
    test_loss, test_acc = dist.evaluate(network, test_images, test_labels, batch_size=256)
    if dist.is_root():
        print(f"test_loss: {test_loss:.4f}  test_acc: {test_acc:.4f}")
    return {"test_loss": test_loss, "test_acc": test_acc}


if __name__ == "__main__":
    main()
