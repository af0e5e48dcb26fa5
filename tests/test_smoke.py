import numpy as np

import tidu


def test_text_a_computation_graph():
    a, b, c = (tidu.tensor(v, requires_grad=True) for v in (7.0, 4.0, 2.0))
    u = b * c
    v = a + u
    J = 3 * v
    assert (u.item(), v.item(), J.item()) == (8.0, 15.0, 45.0)
    J.backward()
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, 6.0, 12.0)


def test_float32_default_and_python_scalars_stay_weak():
    x = tidu.tensor([1.0, 2.0])
    assert x.dtype == np.float32
    assert (x * 2.0).dtype == np.float32
    assert (x + tidu.tensor(np.ones(2))).dtype == np.float64
