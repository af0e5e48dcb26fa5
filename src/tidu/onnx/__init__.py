"""Export tidu models to ONNX, to run them in onnxruntime and other ONNX runtimes.

``tidu.onnx.export(model, "model.onnx")`` writes a Sequential of Dense, Linear, activation,
Dropout, Flatten and Reshape layers; the file's input is named ``"input"`` and its output
``"output"``, both with a dynamic first (batch) axis. onnx is an optional extra
(``pip install tidu[onnx]``), imported only when ``export`` runs. Other layers export once a
converter is registered for them (:func:`register_converter`).
"""

from .converters import ExportError, register_converter
from .export import BATCH_AXIS, DEFAULT_OPSET, INPUT_NAME, OUTPUT_NAME, build_model, export

__all__ = ["BATCH_AXIS", "DEFAULT_OPSET", "ExportError", "INPUT_NAME", "OUTPUT_NAME",
           "build_model", "export", "register_converter"]
