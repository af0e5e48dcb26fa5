"""tidu.accel: the compiled optimizer kernels give the NumPy rules' bits, check as they do,
and step aside where they do not apply."""

import numpy as np
import pytest

import tidu
import tidu.accel
from tidu import optim

numba = pytest.importorskip("numba", reason="numba (the optional accelerator) not installed")

CONFIGS = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, {"lr": 0.1, "weight_decay": 0.01}),
    (optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "rho": 0.8, "epsilon": 1e-4}),
    (optim.Adam, {"lr": 0.01}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}),  # no kernel: the NumPy rule runs
    (optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),  # likewise
]


def _train(cls, kw, dtype, accel_on, check=True, steps=7):
    rng = np.random.default_rng(0)
    params = [tidu.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in ((5, 3), (3,), (1,))]
    opt = cls(params, **kw)
    opt.check_finite = check
    with tidu.accel.disabled() if not accel_on else _nothing():
        for _ in range(steps):
            loss = sum(((p * p * p).sum() for p in params), tidu.tensor(0.0, dtype=dtype))
            opt.zero_grad()
            loss.backward()
            opt.step()
    state = [{k: a.copy() for k, a in s.items()} for s in opt._state]
    return [p.numpy().copy() for p in params], state


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kw", CONFIGS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_kernels_give_the_numpy_bits(cls, kw, dtype, check):
    w_fast, s_fast = _train(cls, kw, dtype, True, check)
    w_ref, s_ref = _train(cls, kw, dtype, False, check)
    for a, b in zip(w_fast, w_ref):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for sa, sb in zip(s_fast, s_ref):
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k])


def test_kernel_runs_for_a_plain_rule(monkeypatch):
    """The kernel is used (not silently skipped) for a float32 RMSprop step."""
    calls = []
    kernels = tidu.accel.kernels("optim")
    real = kernels.rmsprop
    monkeypatch.setattr(kernels, "rmsprop", lambda *a: calls.append(1) or real(*a))
    w = tidu.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    opt = optim.RMSprop([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert calls == [1]
    assert not np.array_equal(w.numpy(), np.ones((4, 4), np.float32))


@pytest.mark.parametrize("cls,kw", CONFIGS[:8], ids=lambda v: getattr(v, "__name__", str(v)))
def test_non_finite_gradient_is_refused_with_nothing_changed(cls, kw):
    w = tidu.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    opt = cls([w], **kw)
    (w * w).sum().backward()
    opt.step()
    before = w.numpy().copy()
    state = {k: a.copy() for k, a in opt._state[0].items()}
    w.grad = tidu.tensor(np.array([[1, np.nan, 1], [1, 1, 1]], np.float32))
    with pytest.raises(optim.NonFiniteUpdateError, match="gradient holds NaN"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), before)
    for k, a in opt._state[0].items():
        np.testing.assert_array_equal(a, state[k])
    assert opt.iterations == 1


def test_overflow_is_refused():
    w = tidu.tensor(np.full(3, 3e38, np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    w.grad = tidu.tensor(np.full(3, -3e38, np.float32))
    with pytest.raises(optim.NonFiniteUpdateError, match="overflowed"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), np.full(3, 3e38, np.float32))


def _kernel_args(name, g, dtype):
    """A kernel's arguments: (the call, the arrays it writes)."""
    f = np.dtype(dtype).type
    w = np.linspace(-1, 1, g.size).astype(dtype).reshape(g.shape)
    m, v = w * f(0.1), np.abs(w)
    a, b, out = np.empty_like(w), np.empty_like(w), np.empty_like(w)
    return {
        "sgd": ((g, w, out, f(0.1), f(1)), (out,)),
        "sgd_momentum": ((g, w, m, a, out, f(0.1), f(0.9), f(1)), (a, out)),
        "sgd_nesterov": ((g, w, m, a, out, f(0.1), f(0.9), f(1)), (a, out)),
        "rmsprop": ((g, w, v, a, out, f(0.1), f(0.9), f(0.1), f(1e-7), f(1)), (a, out)),
        "adam": ((g, w, m, v, a, b, out, f(0.1), f(0.1), f(0.001), f(1e-7), f(1)),
                 (a, b, out)),
    }[name]


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "sgd_nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_count_the_non_finite_values_they_wrote(name, dtype):
    # the loop keeps a flag and counts afterwards: the count is still exact
    kernel = getattr(tidu.accel.kernels("optim"), name)
    g = np.linspace(-2, 2, 1000).astype(dtype).reshape(40, 25)
    args, written = _kernel_args(name, g, dtype)
    assert kernel(*args) == 0
    bad = g.copy()
    bad.reshape(-1)[[3, 500, 501, 997]] = [np.inf, np.nan, -np.inf, np.nan]
    args, written = _kernel_args(name, bad, dtype)
    with np.errstate(all="ignore"):
        n = kernel(*args)
    expected = np.zeros(g.size, bool)
    for arr in written:
        expected |= ~np.isfinite(arr.reshape(-1))
    assert n == expected.sum() >= 4


def test_non_contiguous_gradient_takes_the_numpy_rule():
    w = tidu.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    ref = tidu.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    g = np.arange(12, dtype=np.float32).reshape(4, 3).T  # a transposed view
    for p, on in ((w, True), (ref, False)):
        opt = optim.Adam([p], lr=0.1)
        p.grad = tidu.Tensor(g)
        with tidu.accel.disabled() if not on else _nothing():
            opt.step()
    np.testing.assert_array_equal(w.numpy(), ref.numpy())


def test_switch():
    assert tidu.accel.enabled()
    with tidu.accel.disabled():
        assert not tidu.accel.enabled()
        assert tidu.accel.kernels("optim") is None
    assert tidu.accel.enabled()
    tidu.accel.enable(False)
    try:
        assert not tidu.accel.enabled()
    finally:
        tidu.accel.enable(True)


@pytest.mark.skipif(not hasattr(__import__("os"), "openpty"), reason="needs a pty (POSIX)")
def test_a_process_using_the_kernels_writes_nothing_extra_to_a_terminal():
    """numba's colored errors initialize colorama, which writes a terminal reset code at exit
    when stdout is a terminal (as under mpirun): tidu turns that coloring off."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np, tidu; w = tidu.tensor(np.ones(3, np.float32), "
            "requires_grad=True); opt = tidu.optim.Adam([w]); (w * w).sum().backward(); "
            "opt.step(); print('done')")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"}
    try:
        master, slave = os.openpty()
    except OSError as e:  # a container without /dev/pts
        pytest.skip(f"no pseudo-terminal available here ({e})")
    try:
        proc = subprocess.run([sys.executable, "-c", code], stdout=slave, stderr=subprocess.PIPE,
                              env=env, timeout=120)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the pty's other end is closed: all read
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    assert out.replace(b"\r\n", b"\n") == b"done\n"


def test_import_tidu_does_not_import_numba():
    import subprocess
    import sys

    code = "import sys, tidu; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ----- max pooling and the rectifier's backward -----
POOLS = [((4, 26, 26, 8), 2, 2), ((3, 11, 11, 6), 2, 2), ((2, 7, 9, 5), 3, 3),
         ((2, 8, 8, 3), 2, 3), ((2, 9, 9, 4), (2, 3), (2, 3))]


def _pool_run(x, k, s, g, on):
    import tidu.nn.functional as F

    with _nothing() if on else tidu.accel.disabled():
        t = tidu.Tensor(x.copy(), requires_grad=True)
        y = F.max_pool2d(t, k, s, data_format="channels_last")
        compiled = y._node.arg is not None  # before backward frees the node
        y.backward(tidu.Tensor(g))
    return y.numpy(), t.grad.numpy(), compiled


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s", POOLS)
def test_max_pool_kernel_gives_the_numpy_bits(shape, k, s, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, 0, 0] = x[0, 0, 1, 0]  # a tie: the first maximum gets the gradient
    x[1, 2, 2, 1] = np.nan  # a NaN window: NaN out, gradient at the NaN
    kk = (k, k) if isinstance(k, int) else k
    ss = (s, s) if isinstance(s, int) else s
    out = tuple((n - a) // b + 1 for n, a, b in zip(shape[1:3], kk, ss))
    g = rng.standard_normal((shape[0], *out, shape[3])).astype(dtype)
    y1, gx1, compiled = _pool_run(x, k, s, g, True)
    y0, gx0, numpy_ran = _pool_run(x, k, s, g, False)
    assert compiled and not numpy_ran  # the kernel ran, and only when enabled
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(gx1, gx0)
    assert y1.dtype == gx1.dtype == dtype


def test_max_pool_kernel_steps_aside():
    """Overlapping windows, padding and channels-first take the NumPy kernels."""
    import tidu.nn.functional as F

    x = tidu.Tensor(np.ones((1, 6, 6, 2), np.float32), requires_grad=True)
    for kw in ({"kernel_size": 3, "stride": 2}, {"kernel_size": 2, "padding": 1}):
        y = F.max_pool2d(x, data_format="channels_last", **kw)
        assert y._node.arg is None
    y = F.max_pool2d(tidu.Tensor(np.ones((1, 2, 6, 6), np.float32), requires_grad=True), 2)
    assert y._node.arg is None


@pytest.mark.parametrize("shape", [(5, 7, 3), (64, 64, 65)], ids=["small", "large"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_kernel_gives_the_numpy_bits(dtype, shape):
    from tidu.accel import activation

    rng = np.random.default_rng(2)
    y = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    g[0, 0, 0] = np.nan
    out = activation.relu_backward(g, y)
    ref = g * (y > 0)
    np.testing.assert_array_equal(out, ref)
    assert np.array_equal(np.signbit(out), np.signbit(ref))  # -0.0 where g < 0 is masked


@pytest.mark.parametrize("shape", [(10,), (32, 10), (3, 4, 7)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shift_by_max_kernel_gives_the_numpy_bits(dtype, shape):
    from tidu.accel import activation

    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 30).astype(dtype)
    rows = x.reshape(-1, shape[-1])
    rows[0, 1] = np.nan  # a NaN row: NaN everywhere, as NumPy's maximum gives
    if rows.shape[0] > 2:
        rows[1, :] = -np.inf  # every entry -inf: -inf - -inf is NaN in both
        rows[2, 3] = np.inf
    assert activation.shift_usable(x, -1) and activation.shift_usable(x, x.ndim - 1)
    out = activation.shift_by_max(x)
    with np.errstate(invalid="ignore"):
        ref = x - x.max(axis=-1, keepdims=True)
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == dtype and out.shape == x.shape


def test_shift_by_max_steps_aside():
    """Another axis, a strided view or an integer array take NumPy's expression, same values."""
    from tidu.accel import activation

    x = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    for a, axis in ((x, 0), (x.T, -1), (x[:, ::2], -1), (np.arange(6).reshape(2, 3), -1)):
        assert not activation.shift_usable(a, axis)
        np.testing.assert_array_equal(tidu.accel.shift_by_max(a, axis),
                                      a - a.max(axis=axis, keepdims=True))
    with tidu.accel.disabled():
        np.testing.assert_array_equal(tidu.accel.shift_by_max(x), x - x.max(-1, keepdims=True))


def test_conv_and_dense_relu_gradients_match_with_and_without_kernels(monkeypatch):
    from tidu import nn
    from tidu.ops import _conv_kernels as K

    monkeypatch.setattr(K, "CHUNK_BYTES", 2048)  # the backward sweep in several chunks
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 9, 2)).astype(np.float32)
    grads = []
    for on in (True, False):
        tidu.manual_seed(0)
        model = nn.Sequential([tidu.keras.layers.Conv2D(3, 3, activation="relu"),
                               tidu.keras.layers.MaxPooling2D(2),
                               tidu.keras.layers.Flatten(),
                               nn.Dense(5, activation="relu"), nn.Dense(2)])
        with _nothing() if on else tidu.accel.disabled():
            model(tidu.Tensor(x)).sum().backward()
        grads.append([p.grad.numpy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


# ----- a 2-D convolution's im2col and col2im -----
CONVS = [  # (N, H, W, C), out channels, kernel, keyword arguments of conv2d; kernel width
    # times C at least 16, so the columns are not built transposed (_conv_kernels.SHORT_ROWS)
    ((3, 13, 13, 8), 6, 3, {}),
    ((2, 12, 11, 9), 5, (3, 2), {"stride": 2}),
    ((2, 10, 10, 9), 4, 3, {"padding": "same", "dilation": 2}),
    ((2, 9, 9, 16), 3, (2, 3), {"padding": ((1, 2), (0, 1)), "stride": (1, 2)}),
    ((4, 11, 11, 8), 3, 2, {"stride": 3}),  # pixels no window reads: their gradient is 0
    ((2, 12, 12, 8), 4, (2, 3), {"stride": 2, "dilation": (2, 1), "padding": "same"}),
]


def _conv_run(x, w, b, g, kw, on, channels_first=False):
    import tidu.nn.functional as F

    with _nothing() if on else tidu.accel.disabled():
        if channels_first:  # a channels-first view of the same data
            xt = tidu.Tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
            wt = tidu.Tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
            y = F.conv2d(xt, wt, tidu.Tensor(b, requires_grad=True), **kw)
            y.backward(tidu.Tensor(np.ascontiguousarray(g.transpose(0, 3, 1, 2))))
            return y.numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1)
        xt = tidu.Tensor(x.copy(), requires_grad=True)
        y = F.conv2d(xt, tidu.Tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True),
                     tidu.Tensor(b), data_format="channels_last", **kw)
        y.backward(tidu.Tensor(g))
        return y.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,o,k,kw", CONVS)
def test_conv_kernels_give_the_numpy_bits(shape, o, k, kw, dtype, layout, monkeypatch):
    import tidu.accel.conv as kconv
    import tidu.nn.functional as F
    from tidu.ops import _conv_kernels as K

    monkeypatch.setattr(K, "CHUNK_BYTES", 4096)  # several chunks of the batch
    calls = {"columns": 0, "add_columns": 0}
    for name in calls:
        real = getattr(kconv, name)

        def counted(*a, _real=real, _name=name):
            calls[_name] += 1
            return _real(*a)
        monkeypatch.setattr(kconv, name, counted)
    rng = np.random.default_rng(4)
    kk = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((*kk, shape[3], o)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    out = F.conv2d(tidu.Tensor(x), tidu.Tensor(w.transpose(3, 2, 0, 1).copy()),
                   data_format="channels_last", **kw).shape
    g = rng.standard_normal(out).astype(dtype)
    cf = layout == "channels_first"
    y1, gx1 = _conv_run(x, w, b, g, kw, True, cf)
    assert calls["columns"] > 1 and calls["add_columns"] > 1  # compiled, chunk by chunk
    y0, gx0 = _conv_run(x, w, b, g, kw, False, cf)
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(gx1, gx0)
    assert y1.dtype == gx1.dtype == dtype


# ----- one sweep for a convolution's three gradients -----
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _geometry(shape, k, kw):
    """The kernel size and the resolved geometry of one case of CONVS."""
    from tidu.ops import _conv_kernels as K

    kk = _pair(k)
    return kk, K.geometry("conv2d", shape[1:3], kk, _pair(kw.get("stride", 1)),
                          kw.get("padding", ((0, 0), (0, 0))), _pair(kw.get("dilation", 1)), 1)


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("shape,o,k,kw", CONVS + [((5, 12, 12, 1), 4, 3, {})])
def test_one_sweep_gives_the_separate_gradients(shape, o, k, kw, relu, on, monkeypatch):
    """conv_grads masks, sums and multiplies chunk by chunk: the input and kernel gradients
    are the separate functions' bits on the masked gradient, the bias gradient the sum of
    the chunks' sums (the last case has one input channel: transposed columns)."""
    from tidu.ops import _conv_kernels as K

    monkeypatch.setattr(K, "CHUNK_BYTES", 4096)  # several chunks of the batch
    rng = np.random.default_rng(5)
    kk, geo = _geometry(shape, k, kw)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((*kk, shape[3], o)).astype(np.float32)
    out = (shape[0], *geo.out, o)
    g = rng.standard_normal(out).astype(np.float32)
    y = np.maximum(rng.standard_normal(out).astype(np.float32), 0) if relu else None
    with _nothing() if on else tidu.accel.disabled():
        dx, dw, db = K.conv_grads(x, g, w, geo, (True, True, True), y)
        gm = g * (y > 0) if relu else g
        np.testing.assert_array_equal(dx, K.conv_input_grad(gm, w, shape[1:3], geo))
        np.testing.assert_array_equal(dw, K.conv_weight_grad(x, gm, w.shape, geo))
        pix = int(np.prod(geo.out))
        rows = gm.reshape(-1, o)
        chunks = K._chunks(shape[0], pix * int(np.prod(kk)) * shape[3] * 4)
        assert len(chunks) > 1
        total = np.zeros(o, np.float32)
        for a, b in chunks:
            total += K.bias_grad(rows[a * pix:b * pix])
        np.testing.assert_array_equal(db, total)
        np.testing.assert_allclose(db, gm.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
        only_w = K.conv_grads(x, g, w, geo, (False, True, False), y)
    assert only_w[0] is None and only_w[2] is None
    np.testing.assert_array_equal(only_w[1], dw)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape,o,k,kw", CONVS + [((5, 12, 12, 1), 4, 3, {})])
def test_forward_bias_and_relu_by_chunk_give_the_numpy_bits(shape, o, k, kw, bias,
                                                            monkeypatch):
    """conv_forward(relu=True) adds the bias and rectifies each chunk right after its
    product: the bits of the whole output's ``+ bias`` then ``maximum(., 0)`` in NumPy."""
    from tidu.ops import _conv_kernels as K

    monkeypatch.setattr(K, "CHUNK_BYTES", 4096)  # several chunks of the batch
    rng = np.random.default_rng(6)
    kk, geo = _geometry(shape, k, kw)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((*kk, shape[3], o)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32) if bias else None
    assert len(K._chunks(shape[0], K._image_bytes(geo, shape[3], 4))) > 1
    fused = K.conv_forward(x, w, b, geo, relu=True)
    with tidu.accel.disabled():
        if b is None or K._transposed(geo, shape[3]):  # (transposed: the bias is in the product)
            plain = K.conv_forward(x, w, b, geo)
        else:
            plain = K.conv_forward(x, w, None, geo) + b
        expected = np.maximum(plain, 0)
        np.testing.assert_array_equal(K.conv_forward(x, w, b, geo, relu=True), expected)
    np.testing.assert_array_equal(fused, expected)
    assert (fused >= 0).all() and (fused > 0).any()
