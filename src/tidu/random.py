"""One source of randomness: a NumPy Generator that ``manual_seed`` resets.

Initializers, dropout masks and shuffling all draw from :func:`get_generator`, so one
``tidu.manual_seed(n)`` call reproduces a whole run.

A generator's state is plain data (:func:`get_state`, a JSON-able dict), so a checkpoint can
hold it and :func:`set_state` can continue the stream exactly where it was.

The epoch rule of ``Model.fit(seed=s)``: epoch ``e`` draws its shuffle order and the dropout
masks of the global generator from :func:`seed_epoch` ``(s, e)``, a generator seeded by the
pair ``[s, e]``; so ``fit(seed=s, initial_epoch=k)`` draws what an uninterrupted
``fit(seed=s)`` draws in epoch ``k``, whatever happened before.
"""

from __future__ import annotations

import copy

import numpy as np

_state = {"rng": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed tidu's global generator and return it."""
    _state["rng"] = np.random.default_rng(seed)
    return _state["rng"]


def seed_epoch(seed: int, epoch: int) -> np.random.Generator:
    """Reseed the global generator from the pair ``[seed, epoch]`` (``fit``'s epoch rule).

    >>> a = seed_epoch(3, 2).random(); b = seed_epoch(3, 2).random(); a == b
    True
    """
    _state["rng"] = np.random.default_rng([int(seed), int(epoch)])
    return _state["rng"]


def get_generator() -> np.random.Generator:
    """The global generator (a ``numpy.random.Generator``)."""
    return _state["rng"]


def generator(seed: int | None = None) -> np.random.Generator:
    """A new generator from ``seed``, or the global one when ``seed`` is None."""
    return _state["rng"] if seed is None else np.random.default_rng(seed)


def get_state(gen: np.random.Generator | None = None) -> dict:
    """The state of ``gen`` (tidu's global generator by default) as JSON-able plain data.

    >>> s = get_state(); x = get_generator().random(); _ = set_state(s)
    >>> get_generator().random() == x
    True
    """
    gen = _state["rng"] if gen is None else gen
    return copy.deepcopy(gen.bit_generator.state)


def set_state(state: dict, gen: np.random.Generator | None = None) -> np.random.Generator:
    """Put ``gen`` (the global generator by default) in a state returned by :func:`get_state`.

    The global generator is replaced by one of the saved bit generator's kind when the kinds
    differ; a given ``gen`` must be of the saved kind.

    Raises:
        ValueError: ``state`` is not a generator state, or is of another kind than ``gen``.
    """
    name = state.get("bit_generator") if isinstance(state, dict) else None
    bit_cls = getattr(np.random, name, None) if isinstance(name, str) else None
    if not (isinstance(bit_cls, type) and issubclass(bit_cls, np.random.BitGenerator)):
        raise ValueError("set_state: expected a generator state from tidu.random.get_state() "
                         "(a dict with 'bit_generator', e.g. 'PCG64', and 'state'), got "
                         f"{state!r:.120}")
    if gen is None:
        if type(_state["rng"].bit_generator) is not bit_cls:
            _state["rng"] = np.random.Generator(bit_cls())
        gen = _state["rng"]
    elif type(gen.bit_generator) is not bit_cls:
        raise ValueError(f"set_state: the state is of a {name} generator, the generator given "
                         f"is {type(gen.bit_generator).__name__}")
    try:
        gen.bit_generator.state = copy.deepcopy(state)
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"set_state: not a valid {name} state ({e}): {state!r:.120}") from None
    return gen
