"""The custom-operation contract of docs/custom_ops.md: a user's Function is run, differentiated
by its own backward, checked by gradcheck, and records nothing where it should not."""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tidu

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "custom_ops.md"


def _doc_blocks() -> list:
    """(python code, expected text output or None) for each python block of the doc."""
    parts = re.findall(r"```(python|text)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    blocks = []
    for i, (kind, body) in enumerate(parts):
        if kind == "python":
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            blocks.append((body, nxt[1] if nxt and nxt[0] == "text" else None))
    return blocks


@pytest.fixture(scope="module")
def doc():
    """Run the doc's python blocks as one session; keep the namespace and each block's output."""
    ns: dict = {"__name__": "custom_ops_doc"}
    outputs = []
    for code, expected in _doc_blocks():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, str(DOC), "exec"), ns)
        outputs.append((buf.getvalue(), expected))
    return ns, outputs


def test_doc_blocks_print_what_the_doc_shows(doc):
    _, outputs = doc
    assert len(outputs) >= 5
    for got, expected in outputs:
        if expected is None:
            continue
        # gradcheck's error digits depend on the floating-point library; the rest is exact
        keep = [ln for ln in expected.splitlines() if not ln.startswith("input ")]
        got_lines = [ln for ln in got.splitlines() if not ln.startswith("input ")]
        assert got_lines == keep


def test_doc_softplus_matches_torch_and_uses_its_own_backward(doc):
    ns, _ = doc
    x_np = np.array([-800.0, -3.0, -0.1, 0.0, 0.7, 5.0, 800.0])
    x = tidu.tensor(x_np, requires_grad=True)
    y = ns["softplus"](x, beta=2.0)
    assert type(y.grad_fn).__name__ == "Softplus"
    y.sum().backward()
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.softplus(xt, beta=2.0)  # linear above beta*x = 20
    yt.sum().backward()
    assert np.all(np.isfinite(y.numpy()))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_gradcheck_passes_on_the_doc_examples(doc):
    ns, _ = doc
    rng = np.random.default_rng(1)
    for beta in (0.5, 1.0, 3.0):
        res = tidu.gradcheck(lambda t, b=beta: ns["softplus"](t, beta=b), [rng.normal(size=(2, 5))])
        assert res.ok and max(res.max_abs_error) < 1e-6
    # broadcast shapes, including () and (n, 1) against (m,); |a| kept away from 0 (no kink)
    for sa, sb in [((3, 1), (4,)), ((), (2, 3)), ((2, 3), ())]:
        a = rng.uniform(0.5, 2.0, size=sa) * rng.choice([-1, 1], size=sa)
        res = tidu.gradcheck(ns["Hypot"].apply, [a, rng.normal(size=sb)])
        assert res.ok and len(res.max_abs_error) == 2


def test_hypot_broadcast_gradients_match_torch(doc):
    ns, _ = doc
    rng = np.random.default_rng(2)
    a_np, b_np = rng.uniform(0.5, 2.0, size=(3, 1)), rng.normal(size=(4,))
    a, b = tidu.tensor(a_np, requires_grad=True), tidu.tensor(b_np, requires_grad=True)
    ns["Hypot"].apply(a, b).sum().backward()
    at, bt = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    torch.hypot(at, bt).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-12)


class RoundSTE(tidu.Function):
    """Rounding with a straight-through gradient: the true derivative is 0 almost everywhere,
    so a gradient of 1 can only come from this backward."""

    calls = {"forward": 0, "backward": 0}

    def forward(self, x, scale=1.0):
        RoundSTE.calls["forward"] += 1
        self.scale = scale
        return np.round(x * scale) / scale

    def backward(self, grad):
        RoundSTE.calls["backward"] += 1
        return grad


def test_user_forward_and_backward_are_the_ones_used():
    RoundSTE.calls.update(forward=0, backward=0)
    x = tidu.tensor([0.26, 1.74, -0.9], requires_grad=True, dtype="float64")
    y = RoundSTE.apply(x, scale=2.0)
    np.testing.assert_array_equal(y.numpy(), [0.5, 1.5, -1.0])
    (y * tidu.tensor([1.0, 2.0, 3.0], dtype="float64")).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])
    assert RoundSTE.calls == {"forward": 1, "backward": 1}


def test_wrong_backward_is_caught_by_gradcheck(doc):
    ns, _ = doc
    x = np.random.default_rng(3).normal(size=(4,))
    with pytest.raises(tidu.GradcheckError, match="FAILED"):
        tidu.gradcheck(ns["BadSoftplus"].apply, [x])
    res = tidu.gradcheck(ns["BadSoftplus"].apply, [x], raise_exception=False)
    assert res.ok is False and not res
    # what gradcheck compares: the wrong derivative 1 - s against the true s = sigmoid(x),
    # both seen through the same projection direction, so their ratio is (1 - s) / s
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(res.analytic[0] / res.numerical[0], (1 - s) / s, rtol=1e-6)
    assert res.max_abs_error[0] > 0.1


class Affine(tidu.Function):
    """w * x + c with w, c possibly constants; records what it was asked for."""

    seen: list = []

    def forward(self, w, x, c):
        self.w, self.x = w, x
        return w * x + c

    def backward(self, grad):
        Affine.seen.append(self.needs_grad)
        # returns all three gradients; the engine must drop those of constants
        return grad * self.x, grad * self.w, grad


def test_constants_get_no_gradient():
    Affine.seen.clear()
    w = tidu.tensor([2.0, 3.0], requires_grad=True, dtype="float64")
    x = np.array([5.0, 7.0])  # an array: a constant
    c = tidu.tensor([1.0, 1.0], dtype="float64")  # a tensor without requires_grad
    y = Affine.apply(w, x, c)
    assert y.grad_fn.inputs[1] is None and y.grad_fn.inputs[2] is None
    y.sum().backward()
    assert Affine.seen == [(True, False, False)]
    np.testing.assert_array_equal(w.grad.numpy(), x)
    assert c.grad is None
    # a Python number as a constant works too, and so does None from backward
    z = tidu.tensor(2.0, requires_grad=True, dtype="float64")
    Affine.apply(0.5, z, 1.0).backward()
    assert z.grad.item() == 0.5


def test_no_node_is_recorded_under_no_grad(doc):
    ns, _ = doc
    x = tidu.tensor([1.0, -1.0], requires_grad=True)
    with tidu.no_grad():
        y = ns["softplus"](x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_allclose(y.numpy(), np.log1p(np.exp([1.0, -1.0])), rtol=1e-6)
    with pytest.raises(tidu.GradientError):
        y.sum().backward()
    # no input requiring grad: no node either
    y2 = ns["softplus"](tidu.tensor([1.0]))
    assert y2.grad_fn is None and not y2.requires_grad


def test_custom_op_example_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "custom_op.py")],
                          capture_output=True, text=True, timeout=120, check=True)
    out = proc.stdout
    assert "inf" in out.splitlines()[1]  # the naive formula overflows at x = 800
    assert "inf" not in out.splitlines()[2]  # softplus does not
    assert re.search(r"gradcheck passed\ninput 0: max abs error \S+, max rel error \S+", out)
    assert "gradcheck FAILED" in out
    first = float(re.search(r"passed\ninput 0: max abs error (\S+),", out).group(1))
    assert first < 1e-6
