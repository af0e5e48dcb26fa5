"""One registry of names to classes: every ``get`` of tidu and all saving go through it.

Eight kinds share one lookup: ``layer``, ``loss``, ``metric``, ``optimizer``,
``initializer``, ``regularizer``, ``schedule`` and ``activation``. Each module declares its
kind once (:func:`define_kind`: its built-in classes, its lower-case aliases and its own
rules); :func:`resolve` then turns None, an instance, a class, a name, a config dict
``{'class_name': ..., 'config': {...}}`` or a callable into the object, and
:func:`serialize` writes the dict form back. User classes and functions join with
:func:`register_serializable` (Keras's ``register_keras_serializable``); ``load_model``'s
``custom_objects`` apply for the duration of one load (:func:`custom_object_scope`).

>>> import tidu
>>> @tidu.register_serializable()
... class Doubling(tidu.nn.Module):
...     def forward(self, x):
...         return 2 * x
>>> type(tidu.registry.resolve("layer", {"class_name": "Doubling", "config": {}})).__name__
'Doubling'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("layer", "loss", "metric", "optimizer", "initializer", "regularizer", "schedule",
         "activation")

_RAISE = object()


@dataclass
class Kind:
    """How one kind resolves identifiers (declared by its module through define_kind).

    Attributes:
        kind: one of KINDS.
        where: the function named at the start of messages ('optim.get').
        base: instances are returned as they are, subclasses are instantiated.
        classes: exact names (class names) -> class.
        aliases: lower-case names -> what ``make`` turns into the result.
        make: ``make(found, name, alias)`` -> the object a name resolves to; by default a
            class is instantiated and anything else goes through ``wrap``.
        wrap: what a callable that is not a class becomes (None: a TypeError).
        none: the result for None, or a message (str) raised as ValueError.
        expected: what the TypeError for other values says was expected.
        hint: appended to the list of known names in the unknown-name message.
        extra_names: names the module resolves itself, listed in the unknown-name message.
        capital: the unknown-name message is a sentence, 'Unknown loss ...', without
            ``where`` (the wording these modules had before the registry).
    """

    kind: str
    where: str
    base: type | None
    classes: dict | Callable[[], dict]
    aliases: dict = field(default_factory=dict)
    make: Callable | None = None
    wrap: Callable | None = None
    none: Any = _RAISE
    expected: str = "a name, an instance or a config dict"
    hint: str = ""
    extra_names: tuple = ()
    capital: bool = False

    def builtin_classes(self) -> dict:
        return self.classes() if callable(self.classes) else self.classes


_KINDS: dict[str, Kind] = {}
_CUSTOM: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
_CUSTOM_BY_OBJECT: dict[str, dict[int, str]] = {k: {} for k in KINDS}
_SCOPE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("tidu_custom_objects",
                                                                     default=None)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {list(KINDS)}")
    return kind


def define_kind(kind: str, **spec) -> Kind:
    """Declare how names of ``kind`` resolve (called once, by the module that owns it)."""
    _KINDS[_check_kind(kind)] = k = Kind(kind=kind, **spec)
    return k


# The modules that declare each kind (or, for layers, define tidu's built-in Module
# subclasses). ``import tidu`` is lazy: they are imported when a kind is first looked up.
_DEFINED_IN = {
    "layer": ("tidu.nn", "tidu.models", "tidu.keras"),
    "loss": ("tidu.losses",),
    "metric": ("tidu.metrics",),
    "optimizer": ("tidu.optim",),
    "initializer": ("tidu.nn.initializers",),
    "regularizer": ("tidu.nn.regularizers",),
    "schedule": ("tidu.optim.schedules",),
    "activation": ("tidu.nn.activations",),
}
_ALL_LOADED = False


def _load_all() -> bool:
    """Import every subpackage of tidu (what ``import tidu`` once did), so that a name defined
    anywhere in tidu is found; False when that was done already."""
    global _ALL_LOADED
    if _ALL_LOADED:
        return False
    import tidu

    tidu._load_all()
    _ALL_LOADED = True
    return True


def _kind(kind: str) -> Kind:
    _check_kind(kind)
    if kind not in _KINDS:  # declared when its module is imported
        import importlib

        for module in _DEFINED_IN[kind]:
            importlib.import_module(module)
        if kind == "layer":
            _declare_layers()
        elif kind not in _KINDS:
            _load_all()
    return _KINDS[kind]


# ----------------------------------------------------------------------------- registration
def register_serializable(name: str | None = None, kind: str = "layer") -> Callable:
    """Decorator: make a class (or function) loadable by name, as Keras's
    ``register_keras_serializable``.

    Args:
        name: the name written to files (default: the class's ``__name__``).
        kind: 'layer' (the default), 'loss', 'metric', 'optimizer', 'initializer',
            'regularizer', 'schedule' or 'activation'.

    Raises:
        ValueError: an unknown kind, or a name that a built-in of that kind already has.
        TypeError: a layer that is not a tidu.nn.Module subclass, or an object without a
            name.
    """
    _check_kind(kind)

    def decorator(obj):
        key = name if name is not None else getattr(obj, "__name__", None)
        if not isinstance(key, str) or not key:
            raise TypeError(f"register_serializable: {obj!r} has no __name__; pass name=...")
        if kind == "layer":
            from .nn.module import Module

            if not (isinstance(obj, type) and issubclass(obj, Module)):
                raise TypeError(f"register_serializable: a layer must be a tidu.nn.Module "
                                f"subclass, got {obj!r}")
        spec = _kind(kind)
        builtin = spec.builtin_classes().get(key) or spec.aliases.get(key.lower())
        if builtin is not None and builtin is not obj:
            raise ValueError(f"register_serializable: {key!r} is the name of tidu's built-in "
                             f"{kind} {getattr(builtin, '__name__', builtin)!r}; pass another "
                             "name=...")
        _CUSTOM[kind][key] = obj
        _CUSTOM_BY_OBJECT[kind][id(obj)] = key
        return obj

    return decorator


def registered_name(obj, kind: str) -> str | None:
    """The name ``obj`` (a class or function) was registered under, or None."""
    return _CUSTOM_BY_OBJECT[_check_kind(kind)].get(id(obj))


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None):
    """Names that resolve to the given classes or functions inside the ``with`` block
    (load_model's ``custom_objects``), before registered and built-in names."""
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError("custom_objects must be a dict of name -> class or function, got "
                        f"{type(custom_objects).__name__}")
    token = _SCOPE.set({**(_SCOPE.get() or {}), **(custom_objects or {})})
    try:
        yield
    finally:
        _SCOPE.reset(token)


# ----------------------------------------------------------------------------- lookup
def lookup(kind: str, name: str):
    """The class or function called ``name`` (custom objects in scope, then registered, then
    built-in names, then aliases case-insensitively), and whether it came from an alias.

    Raises:
        ValueError: the name is unknown; the message lists the known names and says how to
            register a custom class.
    """
    spec = _kind(kind)
    scoped = (_SCOPE.get() or {})
    if name in scoped:
        return scoped[name], False
    custom = _CUSTOM[kind]
    if name in custom:
        return custom[name], False
    classes = spec.builtin_classes()
    if name in classes:
        return classes[name], False
    for obj in custom.values():  # a registered class under its own name as well
        if getattr(obj, "__name__", None) == name:
            return obj, False
    key = name.strip().lower()
    if key in spec.aliases:
        return spec.aliases[key], True
    if _load_all():  # a class of a tidu module not imported yet: import them all, look again
        return lookup(kind, name)
    raise ValueError(unknown_message(kind, name))


def unknown_message(kind: str, name: str) -> str:
    """'Unknown <kind> <name>. Known names: ...', and how to register a custom one."""
    spec = _kind(kind)
    known = sorted({*spec.aliases, *spec.extra_names}) or sorted(
        n for n in spec.builtin_classes() if not n.startswith("_"))
    known += sorted(_CUSTOM[kind])
    head = "Unknown" if spec.capital else f"{spec.where}: unknown"
    return (f"{head} {kind} {name!r}. Known names: {', '.join(map(repr, known))}{spec.hint}. "
            f"For a custom {kind}, register it with @tidu.register_serializable(kind="
            f"{kind!r}) or pass custom_objects={{{name!r}: ...}} to load_model")


def _from_config(obj, config: dict, kind: str, name: str):
    if not isinstance(config, dict):
        raise ValueError(f"the config of {kind} {name!r} must be a dict, got "
                         f"{type(config).__name__}")
    if kind == "layer":
        from .nn.layers.container import Sequential

        if isinstance(obj, type) and issubclass(obj, Sequential):
            layers = config.get("layers", [])
            if not isinstance(layers, list):
                raise ValueError(f"the 'layers' of {name!r} must be a list, got "
                                 f"{type(layers).__name__}")
            return obj([resolve("layer", c) for c in layers], name=config.get("name"))
    if hasattr(obj, "from_config"):
        return obj.from_config(dict(config))
    if callable(obj):
        return obj(**config)
    raise TypeError(f"{kind} {name!r} resolves to {obj!r}, which cannot be built from a config")


def resolve(kind: str, identifier, **make_args):
    """The object of ``kind`` that ``identifier`` stands for.

    Args:
        kind: one of KINDS.
        identifier: None, an instance (returned as is), a class (instantiated), a name, a
            dict ``{'class_name': ..., 'config': {...}}`` (built by ``from_config``), or a
            callable (the kind's rule: kept, wrapped or refused).
        **make_args: passed to the kind's ``make`` (metrics: the compiled loss).

    Raises:
        ValueError: an unknown name or class name, or a malformed dict.
        TypeError: a value of another type.
    """
    spec = _kind(kind)
    where = f"{spec.where}: "
    if identifier is None:
        if isinstance(spec.none, str):
            raise ValueError(spec.none)
        if spec.none is _RAISE:
            raise ValueError(f"{where}no {kind} given (None)")
        return spec.none
    base = spec.base
    if base is not None and isinstance(identifier, base):
        return identifier
    if isinstance(identifier, type) and base is not None and issubclass(identifier, base):
        return identifier()
    if isinstance(identifier, str):
        found, alias = lookup(kind, identifier)
        return _make(spec, found, identifier, alias, make_args)
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"{where}a dict needs 'class_name' (and 'config'), got keys "
                             f"{sorted(map(str, identifier))}")
        name = identifier["class_name"]
        if not isinstance(name, str):
            raise ValueError(f"{where}'class_name' must be a string, got {name!r}")
        found, _ = lookup(kind, name)
        return _from_config(found, identifier.get("config", {}), kind, name)
    if callable(identifier) and spec.wrap is not None:
        return spec.wrap(identifier)
    raise TypeError(f"{where}expected {spec.expected}, got {type(identifier).__name__} "
                    f"{identifier!r}")


def _make(spec: Kind, found, name: str, alias: bool, make_args: dict):
    if spec.make is not None:
        return spec.make(found, name, alias, **make_args)
    if isinstance(found, type):
        return found()
    if spec.wrap is not None:
        return spec.wrap(found)
    return found


# ----------------------------------------------------------------------------- saving
def class_name(obj, kind: str) -> str:
    """The name an object's class is written under: its registered name, else its own."""
    cls = obj if isinstance(obj, type) else type(obj)
    return registered_name(cls, kind) or cls.__name__


def serialize(obj, kind: str) -> dict:
    """``{'class_name': ..., 'config': obj.get_config()}``, the form :func:`resolve` reads.

    Sequential containers list their layers through this function, so registered names
    reach every level.
    """
    if kind == "layer":
        from .nn.layers.container import Sequential

        if isinstance(obj, Sequential):
            return {"class_name": class_name(obj, kind),
                    "config": {"name": obj.name,
                               "layers": [serialize(m, kind) for m in obj.layers]}}
    return {"class_name": class_name(obj, kind), "config": obj.get_config()}


def function_name(fn, kind: str) -> str | None:
    """The name a function is known by (registered or in scope), or None."""
    name = registered_name(fn, kind)
    if name is None:
        for key, obj in (_SCOPE.get() or {}).items():
            if obj is fn:
                return key
    return name


def _builtin_layers() -> dict:
    """tidu's own Module subclasses by class name (user classes need registration)."""
    from .models import Sequential
    from .nn._utils import _classes

    out = {n: c for n, c in _classes.items() if c.__module__.startswith("tidu.")}
    out["Sequential"] = Sequential  # tidu.models.Sequential: nn.Sequential that can train
    return out


def _declare_layers() -> None:
    from .nn.module import Module

    define_kind("layer", where="registry.resolve", capital=True, base=Module,
                classes=_builtin_layers, none="no layer given (None)",
                expected="a layer name or config dict")
