"""Item assignment inside a graph: gradients to the value and to the elements kept."""

from __future__ import annotations

import numpy as np
import torch

import tidu


def test_setitem_gives_gradients_to_the_value_and_the_kept_elements():
    x0 = np.arange(6.0).reshape(2, 3)
    x = tidu.tensor(x0, requires_grad=True)
    v = tidu.tensor(np.array([10.0, 20.0]), requires_grad=True)
    y = x * 1.0
    y[:, 1] = v
    (y * y).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    tv = torch.tensor([10.0, 20.0], dtype=torch.float64, requires_grad=True)
    ty = tx * 1.0
    ty[:, 1] = tv
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())
