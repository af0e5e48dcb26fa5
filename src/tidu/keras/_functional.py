"""Names of the functional API, taken from tidu when it has them."""

from __future__ import annotations

FUNCTIONAL_NAMES = ("Input", "InputLayer")


def functional_name(name: str, where: str):
    """``tidu.<name>`` for the functional API's names; AttributeError otherwise."""
    if name in FUNCTIONAL_NAMES:
        import tidu

        found = getattr(tidu, name, None)
        if found is None:
            from ..nn import layers as nn_layers

            found = getattr(nn_layers, name, None)
        if found is not None:
            return found
        raise AttributeError(f"{where}.{name}: this tidu has no functional API yet "
                             "(Input / Model(inputs, outputs)); subclass keras.Model or use "
                             "keras.Sequential")
    raise AttributeError(f"module {where!r} has no attribute {name!r} (tidu's Keras names "
                         "are listed in docs/porting.md)")
