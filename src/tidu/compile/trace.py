"""Placeholder: tracing of Python step functions (see jit)."""


def jit(fn=None, **kwargs):  # pragma: no cover - replaced below
    raise NotImplementedError
