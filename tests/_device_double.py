"""A stand-in accelerator for machines without a GPU: device 'fake' behaves as CuPy does.

CI has no GPU, yet every operation must run unchanged on CuPy arrays. CuPy reaches tidu's
NumPy calls through NumPy's dispatch protocols (``__array_ufunc__``, ``__array_function__``),
refuses to be turned into a NumPy array implicitly, and refuses NumPy arrays as operands. The
array class here does the same over host memory, so code that would break on a GPU (a host
array made from nothing and mixed with device arrays, an ``np.asarray`` of a device array, a
silent device change) breaks here too, while the arithmetic is NumPy's and the results can be
compared exactly with the CPU's.

What it cannot show: that CuPy implements every NumPy function tidu calls, and GPU speed.
Those need the real device (tests/test_device.py runs the same checks on 'cuda' when CuPy
and a GPU are present).
"""

from __future__ import annotations

import numpy as np

from tidu.backend import devices


class DeviceRefusal(TypeError):
    """What CuPy raises for host arrays given to device operations."""


def _reject_host(x, what):
    if isinstance(x, np.ndarray):
        raise DeviceRefusal(f"fake device: {what} got a numpy.ndarray of shape {x.shape}; "
                            "host arrays are not allowed (as in CuPy)")


def _unwrap(x, what):
    if type(x) is FakeArray:
        return x.a
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, what) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, what) for k, v in x.items()}
    _reject_host(x, what)
    return x


def _wrap(x):
    if type(x) is np.ndarray:
        return FakeArray(x)
    if isinstance(x, np.generic):  # CuPy gives 0-d device arrays where NumPy gives scalars
        return FakeArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap_index(key):
    if type(key) is FakeArray:
        return key.a
    if isinstance(key, tuple):
        return tuple(_unwrap_index(k) for k in key)
    if isinstance(key, list):  # lists of ints index on CuPy as on NumPy
        return key
    _reject_host(key, "indexing")
    return key


class FakeArray:
    """A NumPy array held as if in device memory (see the module docstring)."""

    __slots__ = ("a",)
    __array_priority__ = 100

    def __init__(self, a: np.ndarray):
        self.a = a

    # ----- the protocols CuPy implements -----
    def __array__(self, dtype=None, copy=None):
        raise DeviceRefusal("fake device: implicit conversion to a NumPy array is not "
                            "allowed (as in CuPy); use tidu.backend.to_host")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if getattr(np, ufunc.__name__, None) is not ufunc:
            # CuPy maps NumPy's own ufuncs to its kernels by name; others (scipy.special's)
            # have no counterpart in cupy and are refused.
            return NotImplemented
        ins = _unwrap(inputs, f"{ufunc.__name__}.{method}")
        kw = _unwrap(kwargs, f"{ufunc.__name__}.{method}")
        return _wrap(getattr(ufunc, method)(*ins, **kw))

    def __array_function__(self, func, types, args, kwargs):
        name = getattr(func, "__name__", str(func))
        return _wrap(func(*_unwrap(args, name), **_unwrap(kwargs, name)))

    # ----- array facts -----
    shape = property(lambda self: self.a.shape)
    ndim = property(lambda self: self.a.ndim)
    dtype = property(lambda self: self.a.dtype)
    size = property(lambda self: self.a.size)
    itemsize = property(lambda self: self.a.itemsize)
    nbytes = property(lambda self: self.a.nbytes)
    strides = property(lambda self: self.a.strides)
    flags = property(lambda self: self.a.flags)
    T = property(lambda self: FakeArray(self.a.T))
    real = property(lambda self: FakeArray(self.a.real))
    imag = property(lambda self: FakeArray(self.a.imag))

    @property
    def base(self):
        return None if self.a.base is None else FakeArray(self.a.base)

    def __getattr__(self, name):
        if name.startswith("__"):  # no buffer or array interface: NumPy cannot read it
            raise AttributeError(name)
        attr = getattr(self.a, name)
        if callable(attr):
            def method(*args, **kwargs):
                return _wrap(attr(*_unwrap(args, name), **_unwrap(kwargs, name)))
            return method
        return _wrap(attr)

    def get(self) -> np.ndarray:
        """A host copy (CuPy's ``ndarray.get``)."""
        return self.a.copy()

    def item(self):
        return self.a.item()

    def tolist(self):
        return self.a.tolist()

    def __len__(self):
        return len(self.a)

    def __iter__(self):
        return (_wrap(v) for v in self.a)

    def __bool__(self):
        return bool(self.a)

    def __float__(self):
        return float(self.a)

    def __int__(self):
        return int(self.a)

    def __index__(self):
        return self.a.__index__()

    def __repr__(self):
        return "fake" + repr(self.a)

    def __getitem__(self, key):
        return _wrap(self.a[_unwrap_index(key)])

    def __setitem__(self, key, value):
        self.a[_unwrap_index(key)] = _unwrap(value, "__setitem__")

    def __copy__(self):
        return FakeArray(self.a.copy())

    def __deepcopy__(self, memo):
        return FakeArray(self.a.copy())

    def __reduce__(self):
        raise DeviceRefusal("fake device: device arrays are not pickled here; move to host")


def _defers(other) -> bool:
    """CuPy's operators return NotImplemented to objects that opt out of ufuncs (tidu's
    Tensor sets ``__array_ufunc__ = None``), so Python calls their reflected operator."""
    return getattr(type(other), "__array_ufunc__", False) is None


def _binary(ufunc):
    def op(self, other):
        return NotImplemented if _defers(other) else ufunc(self, other)

    def rop(self, other):
        return NotImplemented if _defers(other) else ufunc(other, self)

    def iop(self, other):
        return NotImplemented if _defers(other) else ufunc(self, other, out=self)

    return op, rop, iop


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                   ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    _op, _rop, _iop = _binary(_uf)
    setattr(FakeArray, f"__{_name}__", _op)
    setattr(FakeArray, f"__r{_name}__", _rop)
    setattr(FakeArray, f"__i{_name}__", _iop)
for _name, _uf in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(FakeArray, f"__{_name}__", (lambda uf: lambda self, other: NotImplemented
                                         if _defers(other) else uf(self, other))(_uf))
FakeArray.__neg__ = lambda self: np.negative(self)
FakeArray.__pos__ = lambda self: np.positive(self)
FakeArray.__abs__ = lambda self: np.absolute(self)
FakeArray.__invert__ = lambda self: np.invert(self)
FakeArray.__hash__ = None


class _FakeModule:
    """The 'fake' library's NumPy-like module (as ``cupy`` is CuPy's): NumPy's functions,
    with arrays made on the fake device."""

    ndarray = FakeArray

    def __getattr__(self, name):
        obj = getattr(np, name)
        if isinstance(obj, type) or not callable(obj) or isinstance(obj, np.ufunc):
            return obj
        if name in ("asarray", "array", "ascontiguousarray"):
            def convert(x, *args, **kwargs):
                if type(x) is FakeArray:
                    return FakeArray(getattr(np, name)(x.a, *args, **kwargs))
                return FakeArray(getattr(np, name)(x, *args, **kwargs))
            return convert

        def fn(*args, **kwargs):
            return _wrap(obj(*_unwrap(args, name), **_unwrap(kwargs, name)))
        return fn


fake = _FakeModule()


def _special(name):
    import scipy.special

    f = getattr(scipy.special, name)
    return lambda *args, **kwargs: _wrap(f(*_unwrap(args, name), **_unwrap(kwargs, name)))


devices.register("fake", devices.ArrayLibrary(
    "fake", FakeArray, fake, to_host=lambda a: a.a.copy(),
    from_host=lambda h, index: FakeArray(np.array(h)), index_of=lambda a: 0, special=_special))


def _cuda_reason():
    try:
        devices.library("cuda")
    except Exception as e:  # DeviceError: no CuPy, or no GPU
        return f"no CUDA device here: {e}"
    return None


CUDA_REASON = _cuda_reason()
"""Why the 'cuda' cases are skipped here (None where CuPy and a GPU are present)."""


def _devices():
    import pytest

    return ["fake", pytest.param("cuda", marks=pytest.mark.skipif(
        CUDA_REASON is not None, reason=CUDA_REASON or ""))]


DEVICES = _devices()
"""The devices each device test runs on: the stand-in, and 'cuda' (skipped with the reason)."""


def host(a):
    """A tensor's or array's values as a NumPy array, from any device."""
    from tidu import Tensor

    return devices.to_host(a.data if isinstance(a, Tensor) else a)
