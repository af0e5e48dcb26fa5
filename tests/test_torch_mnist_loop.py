"""The usual PyTorch MNIST MLP training loop, run on tidu by changing only the imports.

MNIST comes from ``../shared/datasets/mnist`` when that folder is there (a subset, to keep
the test quick); otherwise scikit-learn's embedded 8x8 digits stand in (nothing is
downloaded).
"""

import os

import numpy as np
import pytest

import tidu as torch
import tidu.nn as nn
import tidu.nn.functional as F
import tidu.optim as optim
from tidu.optim.lr_scheduler import StepLR
from tidu.utils.data import DataLoader, TensorDataset

MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "mnist")


def _data():
    if os.path.isdir(MNIST):
        from tidu.datasets import mnist
        (x, y), (xt, yt) = mnist.load_data(MNIST)
        x, y, xt, yt = x[:6000], y[:6000], xt[:2000], yt[:2000]
        scale, wanted, epochs = 255.0, 0.85, 3
    else:
        pytest.importorskip("sklearn", reason="needs scikit-learn's digits (no MNIST here)")
        from tidu.datasets import digits
        (x, y), (xt, yt) = digits.load_data()
        scale, wanted, epochs = 16.0, 0.93, 10
    def prep(a):
        return ((a.astype(np.float32) / scale) - 0.5) / 0.5
    return prep(x), y.astype(np.int64), prep(xt), yt.astype(np.int64), wanted, epochs


class Net(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def train(model, loader, optimizer, epoch):
    model.train()
    total = 0.0
    for data, target in loader:
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        total += loss.item() * data.size(0)
    return total / len(loader.dataset)


def evaluate(model, loader):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for data, target in loader:
            output = model(data)
            loss += F.cross_entropy(output, target, reduction="sum").item()
            pred = output.argmax(dim=1)
            correct += (pred == target).sum().item()
    n = len(loader.dataset)
    return loss / n, correct / n


def test_pytorch_mnist_mlp_loop_trains():
    torch.manual_seed(0)
    x, y, xt, yt, wanted, epochs = _data()
    train_loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=64,
                              shuffle=True)
    test_loader = DataLoader(TensorDataset(xt, yt), batch_size=500)
    model = Net(int(np.prod(x.shape[1:])))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.8)
    _, before = evaluate(model, test_loader)
    losses = []
    for epoch in range(1, epochs + 1):
        losses.append(train(model, train_loader, optimizer, epoch))
        scheduler.step()
    test_loss, accuracy = evaluate(model, test_loader)
    assert scheduler.get_last_lr() == pytest.approx([0.05 * 0.8 ** epochs])
    assert losses[-1] < losses[0] / 2
    assert before < 0.3 and accuracy >= wanted, (before, accuracy, losses, test_loss)
    # the same loop in PyTorch, on the same data, reaches about the same accuracy
    assert accuracy >= _torch_accuracy(x, y, xt, yt, epochs) - 0.03


def _torch_accuracy(x, y, xt, yt, epochs):
    import torch as real
    threads = real.get_num_threads()
    real.set_num_threads(1)  # a small model: threads only add overhead
    try:
        return _torch_loop(real, x, y, xt, yt, epochs)
    finally:
        real.set_num_threads(threads)


def _torch_loop(real, x, y, xt, yt, epochs):
    real.manual_seed(0)
    model = real.nn.Sequential(real.nn.Flatten(), real.nn.Linear(x[0].size, 128), real.nn.ReLU(),
                               real.nn.Linear(128, 64), real.nn.ReLU(), real.nn.Linear(64, 10))
    optimizer = real.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = real.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.8)
    loader = real.utils.data.DataLoader(real.utils.data.TensorDataset(
        real.tensor(x), real.tensor(y)), batch_size=64, shuffle=True)
    for _ in range(epochs):
        for data, target in loader:
            optimizer.zero_grad()
            real.nn.functional.cross_entropy(model(data), target).backward()
            optimizer.step()
        scheduler.step()
    with real.no_grad():
        return (model(real.tensor(xt)).argmax(dim=1) == real.tensor(yt)).float().mean().item()
