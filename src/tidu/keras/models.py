"""``keras.models``: Model, Sequential and load_model (tidu's own)."""

from ..models import Model, Sequential, load_model

__all__ = ["Model", "Sequential", "load_model"]
