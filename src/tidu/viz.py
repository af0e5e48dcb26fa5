"""Draw a computation graph: Graphviz DOT text in pure Python, SVG/PNG/PDF through ``dot``.

Text A explains backpropagation with a computation graph: values flow forward, left to right,
and derivatives flow backward, right to left. :func:`to_dot` draws the graph tidu recorded:

* a **box** per tensor: its ``name`` (or a short id such as ``t3``), its shape, its value when
  it has at most ``max_elements`` elements (printed with ``%g``) and its ``.grad`` when set.
  Leaves that require grad are blue, the roots you pass are yellow;
* an **ellipse** per operation, labelled with its Function class (``Mul``, ``Add``, ...);
* a small grey **const** label, with a dashed edge, for each input of an operation that was
  recorded as a constant (a Python number, an array, or a tensor without ``requires_grad``).
  tidu keeps no reference to constants, so their values cannot be shown; pass
  ``show_constants=False`` to leave them out.

Drawing needs the recorded graph, which ``backward()`` frees as it goes (to save memory). To
draw a graph *with* its gradients, call ``backward(retain_graph=True)`` and ``retain_grad()``
on the intermediate tensors whose gradient you want to see; or draw before ``backward``.

>>> import tidu
>>> from tidu import viz
>>> b = tidu.tensor(4.0, requires_grad=True, name="b")
>>> c = tidu.tensor(2.0, requires_grad=True, name="c")
>>> u = b * c
>>> print(viz.to_dot(u).splitlines()[0])
digraph tidu {
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import deque
from pathlib import Path

import numpy as np

from .errors import GradientError, TiduError
from .tensor import Tensor

__all__ = ["GraphvizNotFoundError", "render", "to_dot"]

_RANKDIRS = ("LR", "RL", "TB", "BT")
_TEXT_FORMATS = ("dot", "gv")
_DOT_FORMATS = ("svg", "png", "pdf")

_LEAF_FILL = "#dbe9f6"
_ROOT_FILL = "#fdebc8"
_OP_FILL = "#eeeeee"


class GraphvizNotFoundError(TiduError, RuntimeError):
    """The Graphviz ``dot`` program, needed to render SVG/PNG/PDF, is not installed."""


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def _fmt(v) -> str:
    return f"{v + 0.0:g}"  # + 0.0 prints -0.0 as 0 and booleans as 0/1


def _fmt_array(a) -> str:
    """Compact ``%g`` text of a small array: ``7``, ``[1, 2.5]``, ``[[1, 2], [3, 4]]``."""
    a = np.asarray(a)
    if a.ndim == 0:
        return _fmt(a.item())
    text = np.array2string(a, separator=", ", formatter={"all": _fmt})
    return " ".join(text.split())


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _tensor_label(t: Tensor, fallback: str, show_values: bool, show_grads: bool,
                  max_elements: int) -> str:
    shape = getattr(t, "static_shape", None) if t.data is None else t.shape
    shape = "?" if shape is None else _shape_text(tuple("?" if d is None else d
                                                        for d in shape))
    lines = [t.name if t.name else fallback, f"shape {shape}"]
    if t.data is None:  # a symbolic variable (tidu.compile): no value to show
        lines.append(getattr(t, "kind", "symbolic"))
    elif show_values and t.data.size <= max_elements:
        lines.append(f"value {_fmt_array(t.data)}")
    if show_grads and t.grad is not None:
        g = t.grad.data
        lines.append(f"grad {_fmt_array(g)}" if g.size <= max_elements else "grad set")
    return "\n".join(lines)


def _freed_error(t: Tensor, tid: str, node) -> GradientError:
    who = repr(t.name) if t.name else f"tensor {tid}"
    return GradientError(
        f"cannot draw the graph: the node that made {who} ({type(node).__name__}) was freed "
        "by backward(), which releases the graph as it goes. To draw a graph after backward, "
        "call backward(retain_graph=True), and call retain_grad() on the intermediate tensors "
        "whose .grad should show; or draw the graph before calling backward()"
    )


def to_dot(
    *roots: Tensor,
    show_values: bool = True,
    show_grads: bool = True,
    show_constants: bool = True,
    max_elements: int = 4,
    rankdir: str = "LR",
) -> str:
    """Graphviz DOT text of the graph that produced ``roots``.

    The walk is iterative (breadth-first from the roots through ``tensor._node`` and
    ``node.inputs``), so graphs of any depth can be drawn. Ids are given in discovery order,
    so the same graph always gives the same text.

    Args:
        *roots: the tensors to draw from (e.g. the loss); at least one.
        show_values: print each tensor's value when it has at most ``max_elements`` elements.
        show_grads: print each tensor's ``.grad`` when set (leaves after ``backward``, and
            non-leaves that called ``retain_grad()``).
        show_constants: draw a grey ``const`` label for each input recorded as a constant.
        max_elements: the largest tensor whose value (and gradient) is printed.
        rankdir: layout direction: ``"LR"`` (left to right, as in Text A), ``"RL"``,
            ``"TB"`` or ``"BT"``.

    Returns:
        The DOT text (``digraph tidu { ... }``), for ``dot -Tsvg`` or any Graphviz viewer.

    Raises:
        TypeError: a root is not a Tensor.
        ValueError: no roots, a bad ``rankdir`` or ``max_elements``.
        GradientError: part of the graph was freed by ``backward()`` (see the module notes).
    """
    if len(roots) == 1 and hasattr(roots[0], "outputs") and hasattr(roots[0], "updates"):
        f = roots[0]  # a compiled function (tidu.function): draw its optimized graph
        roots = tuple(f.outputs) + tuple(u for _, u in f.updates)
    if not roots:
        raise ValueError("to_dot needs at least one tensor to draw from, got none")
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"to_dot: roots must be tidu Tensors, got {type(r).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if not isinstance(max_elements, int) or isinstance(max_elements, bool) or max_elements < 0:
        raise ValueError(f"to_dot: max_elements must be an int >= 0, got {max_elements!r}")

    tids: dict[int, str] = {}
    tensors: list[tuple[str, Tensor]] = []
    queue: deque = deque()

    def visit(t: Tensor) -> str:
        key = id(t)
        if key not in tids:
            tids[key] = f"t{len(tids)}"
            tensors.append((tids[key], t))
            queue.append(t)
        return tids[key]

    for r in roots:
        visit(r)
    root_ids = {id(r) for r in roots}
    fids: dict[int, str] = {}
    ops: list[tuple[str, object]] = []
    consts: list[str] = []
    edges: list[str] = []
    while queue:
        t = queue.popleft()
        node = t._node
        if node is None:
            continue
        if getattr(node, "_freed", False):
            raise _freed_error(t, tids[id(t)], node)
        if id(node) in fids:  # one node, several output tensors: draw the node once
            edges.append(f"  {fids[id(node)]} -> {tids[id(t)]};")
            continue
        fid = f"f{len(ops)}"
        fids[id(node)] = fid
        ops.append((fid, node))
        edges.append(f"  {fid} -> {tids[id(t)]};")
        for p in getattr(node, "inputs", ()):
            if p is not None:
                edges.append(f"  {visit(p)} -> {fid};")
            elif show_constants:
                cid = f"c{len(consts)}"
                consts.append(cid)
                edges.append(f"  {cid} -> {fid} [style=dashed, color=gray50];")

    out = [
        "digraph tidu {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [arrowsize=0.7];',
    ]
    for tid, t in tensors:
        label = _tensor_label(t, tid, show_values, show_grads, max_elements)
        attrs = "shape=box"
        if id(t) in root_ids:
            attrs += f', style=filled, fillcolor="{_ROOT_FILL}"'
        elif t.is_leaf and t.requires_grad:
            attrs += f', style=filled, fillcolor="{_LEAF_FILL}"'
        out.append(f"  {tid} [label={_quote(label)}, {attrs}];")
    for fid, node in ops:
        name = type(node).__name__
        out.append(f'  {fid} [label={_quote(name)}, shape=ellipse, style=filled, '
                   f'fillcolor="{_OP_FILL}"];')
    for cid in consts:
        out.append(f'  {cid} [label="const", shape=plaintext, fontcolor=gray40, fontsize=8];')
    out.extend(edges)
    out.append("}")
    return "\n".join(out) + "\n"


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = path.suffix.lstrip(".").lower()
        if not fmt:
            raise ValueError(
                f"render: cannot tell the format of {str(path)!r}: give the path a suffix "
                f"(.dot, .svg, .png, .pdf) or pass format=")
    fmt = fmt.lower().lstrip(".")
    if fmt not in _TEXT_FORMATS + _DOT_FORMATS:
        raise ValueError(
            f"render: format must be one of {_TEXT_FORMATS + _DOT_FORMATS}, got {fmt!r}")
    return fmt


def _run_dot(text: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            f"rendering to .{fmt} needs the Graphviz 'dot' program, which is not on PATH. "
            "Install Graphviz (e.g. `apt-get install graphviz`, `brew install graphviz` or "
            "`conda install graphviz`), or write DOT text instead: tidu.viz.to_dot(...) and "
            "render(..., path='graph.dot') need nothing installed")
    proc = subprocess.run([exe, f"-T{fmt}"], input=text.encode("utf-8"),
                          capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise TiduError(f"Graphviz 'dot -T{fmt}' failed (exit {proc.returncode}): {err}")
    return proc.stdout


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def render(*roots: Tensor, path: str | os.PathLike, format: str | None = None,
           **options) -> Path:
    """Draw the graph of ``roots`` to a file: DOT text, or SVG/PNG/PDF through Graphviz.

    Args:
        *roots: the tensors to draw from, as for :func:`to_dot`.
        path: the file to write; written atomically (a temporary file, then a rename).
        format: ``"dot"``/``"gv"`` (text, needs nothing installed), ``"svg"``, ``"png"`` or
            ``"pdf"`` (need the Graphviz ``dot`` program); by default from the suffix.
        **options: passed to :func:`to_dot` (``show_values``, ``rankdir``, ...).

    Returns:
        The path written.

    Raises:
        GraphvizNotFoundError: an image format was asked for and ``dot`` is not installed.
        ValueError: unknown format.
    """
    path = Path(path)
    fmt = _format_of(path, format)
    text = to_dot(*roots, **options)
    data = text.encode("utf-8") if fmt in _TEXT_FORMATS else _run_dot(text, fmt)
    _write_atomic(path, data)
    return path
