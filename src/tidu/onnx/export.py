"""export(): a tidu model as an ONNX file, built node by node with ``onnx.helper``.

The graph has one input named ``"input"`` and one output named ``"output"``; their first
axis is the dynamic batch axis ``"batch"``. Weights are stored as initializers named after
their layers (``"dense/kernel"``, ...). onnx is imported only when ``export`` runs.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..io.atomic import atomic_write
from ..tensor import Tensor
from .converters import ExportError, converter_for

INPUT_NAME = "input"
OUTPUT_NAME = "output"
BATCH_AXIS = "batch"
DEFAULT_OPSET = 17
MIN_OPSET = 13


def _require_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("tidu.onnx.export needs the onnx package, an optional extra: "
                          "pip install tidu[onnx]") from e
    return onnx


class GraphBuilder:
    """The ONNX graph under construction; converters add nodes through it.

    Attributes:
        opset: the ONNX opset being targeted.
        dtype: the NumPy float dtype of the graph's values (the model's weights').
        elem_type: the same as an ONNX ``TensorProto`` element type.
    """

    def __init__(self, onnx, dtype, opset: int):
        self._helper, self._numpy_helper = onnx.helper, onnx.numpy_helper
        self.dtype = np.dtype(dtype)
        self.elem_type = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._scope: list[str] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return "/".join([*self._scope, f"{hint}_{self._count}"])

    def node(self, op_type: str, inputs: list[str], **attrs) -> str:
        """Add one node ``op_type(*inputs, **attrs)``; returns the name of its output."""
        out = self._name(op_type)
        self.nodes.append(self._helper.make_node(op_type, list(inputs), [out], name=out,
                                                 **attrs))
        return out

    def _initializer(self, array: np.ndarray, name: str) -> str:
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(array),
                                                               name))
        return name

    def weight(self, array, hint: str) -> str:
        """A weight of the current layer as an initializer named '<layer>/<hint>'."""
        name = "/".join([*self._scope, hint])
        return self._initializer(np.asarray(array, dtype=self.dtype), name)

    def const(self, value: float) -> str:
        """A scalar constant in the graph's float dtype."""
        return self._initializer(np.asarray(value, dtype=self.dtype), self._name("const"))

    def ints(self, values) -> str:
        """An int64 vector constant (shapes, axes, slice bounds)."""
        return self._initializer(np.asarray(values, dtype=np.int64), self._name("ints"))

    def convert(self, layer, x: str, shape: tuple) -> tuple[str, tuple]:
        """Add the nodes of ``layer`` applied to value ``x`` of ``shape``; returns the output
        value's name and shape."""
        fn = converter_for(layer)
        self._scope.append(layer.name)
        try:
            y = fn(self, layer, x, shape)
        finally:
            self._scope.pop()
        return y, _output_shape(layer, shape)


def _output_shape(layer, shape: tuple) -> tuple:
    """``layer.compute_output_shape``, or, for a layer without one, the shape of its output
    on a batch of two zero samples."""
    try:
        return tuple(layer.compute_output_shape(shape))
    except NotImplementedError:
        if any(d is None for d in shape[1:]):
            raise ExportError(f"tidu.onnx.export: layer '{layer.name}' of class "
                              f"{type(layer).__name__} has no compute_output_shape() and its "
                              f"input shape {shape} is not fully known") from None
    with no_grad():
        out = layer(Tensor(np.zeros((2, *shape[1:]), dtype=backend.default_float)))
    return (shape[0], *out.shape[1:])


def _graph_dtype(model) -> np.dtype:
    dtypes = {np.dtype(p.data.dtype) for p in model.parameters()}
    if len(dtypes) > 1:
        raise ExportError(f"tidu.onnx.export: the weights of '{model.name}' mix the dtypes "
                          f"{sorted(str(d) for d in dtypes)}; cast them to one dtype first")
    dtype = dtypes.pop() if dtypes else np.dtype(backend.default_float)
    if dtype not in (np.float16, np.float32, np.float64):
        raise ExportError(f"tidu.onnx.export: weights must be float16, float32 or float64, "
                          f"got {dtype}")
    return dtype


def _sample_shape(model, input_shape) -> tuple:
    if input_shape is None:
        if model.input_shape is None:
            raise ValueError(f"tidu.onnx.export: the input shape of '{model.name}' is not "
                             "known; pass input_shape=(features,) (one sample's shape)")
        return tuple(model.input_shape[1:])
    try:
        if isinstance(input_shape, (str, bytes)):
            raise TypeError
        sample = tuple(None if d is None else int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"tidu.onnx.export: input_shape must be one sample's shape, a tuple "
                        f"of ints such as (64,), got {input_shape!r}") from None
    if any(d is not None and d < 1 for d in sample):
        raise ValueError(f"tidu.onnx.export: input_shape must have positive sizes, got "
                         f"{input_shape!r}")
    known = model.input_shape
    if known is not None and len(known) - 1 == len(sample) and any(
            a is not None and b is not None and a != b for a, b in zip(known[1:], sample)):
        raise ValueError(f"tidu.onnx.export: input_shape {sample} does not match the shape "
                         f"'{model.name}' was built for, {tuple(known[1:])}")
    return sample


def _value_info(helper, name: str, elem_type: int, shape: tuple):
    dims = [BATCH_AXIS, *(f"{name}_dim{i}" if d is None else d
                          for i, d in enumerate(shape[1:], 1))]
    return helper.make_tensor_value_info(name, elem_type, dims)


def build_model(model, input_shape=None, opset: int = DEFAULT_OPSET):
    """The ONNX ``ModelProto`` of ``model`` (see :func:`export`), checked, not written."""
    onnx = _require_onnx()
    max_opset = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not (
            MIN_OPSET <= opset <= max_opset):
        raise ValueError(f"tidu.onnx.export: opset must be an integer from {MIN_OPSET} to "
                         f"{max_opset} (the installed onnx's newest), got {opset!r}")
    if not model.built:
        raise ValueError(f"tidu.onnx.export: '{model.name}' has no weights yet; train it, "
                         "call it on a batch or give its first layer input_shape first")
    shape = (None, *_sample_shape(model, input_shape))
    g = GraphBuilder(onnx, _graph_dtype(model), opset)
    out, out_shape = g.convert(model, INPUT_NAME, shape)
    if out == INPUT_NAME:  # the model is the identity
        out = g.node("Identity", [out])
    producer = next(n for n in g.nodes if n.output[0] == out)
    producer.output[0] = OUTPUT_NAME
    graph = onnx.helper.make_graph(
        g.nodes, model.name, [_value_info(onnx.helper, INPUT_NAME, g.elem_type, shape)],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, g.elem_type, None)],
        initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="tidu",
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    _declare_output_shape(onnx, proto, out_shape)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _declare_output_shape(onnx, proto, fallback: tuple) -> None:
    """Give the output the shape ONNX infers for the graph (what the nodes compute), its
    first axis named 'batch'; ``fallback`` (the layers' own shape rules) if none is
    inferred."""
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
    out = inferred.graph.output[0].type.tensor_type
    if out.HasField("shape") and len(out.shape.dim) >= 1:
        dims = [d.dim_value if d.HasField("dim_value") else None for d in out.shape.dim]
    else:
        dims = list(fallback)
    info = _value_info(onnx.helper, OUTPUT_NAME, proto.graph.input[0].type.tensor_type
                       .elem_type, tuple(dims))
    proto.graph.output[0].CopyFrom(info)


def export(model, path, input_shape=None, opset: int = DEFAULT_OPSET):
    """Write ``model`` as an ONNX file that onnxruntime runs with ``predict``'s results.

    The graph's input is named ``"input"`` and has shape ``("batch", *input_shape)``; its
    output is named ``"output"`` and has ``("batch", ...)``; the batch axis is dynamic. Values
    have the weights' dtype (float32 by default). Dropout is the identity (inference). The
    file is checked with ``onnx.checker.check_model(full_check=True)`` and written
    atomically (:func:`tidu.io.atomic.atomic_write`).

    Args:
        model: a built Sequential (tidu.Sequential or tidu.nn.Sequential) of Dense, Linear,
            activation, Dropout, Flatten and Reshape layers, or one such layer; other layers
            need a converter (:func:`tidu.onnx.register_converter`).
        path: where to write the ``.onnx`` file.
        input_shape: one sample's shape, e.g. (64,); by default the shape the model was
            built for.
        opset: the ONNX opset version, from 13 to the installed onnx's newest.

    Returns:
        The ``onnx.ModelProto`` written.

    Raises:
        ImportError: onnx is not installed (``pip install tidu[onnx]``).
        ExportError: a layer or activation without a converter (named in the message).
        ValueError: an unbuilt model, an unknown input shape or a bad opset.
    """
    proto = build_model(model, input_shape, opset)
    atomic_write(path, proto.SerializeToString())
    return proto
