"""The computation graph (from :func:`tidu.viz.to_dot`) drawn with matplotlib: no Graphviz.

Boxes are tensors (name, shape, value, gradient), ellipses operations, laid out in columns
from the inputs (left) to the roots (right), as Text A draws J = 3(a + b*c).
"""

from __future__ import annotations

import os
import re

from ._mpl import figure, finish

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];\s*$')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[.*\])?;\s*$")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse_dot(text: str) -> tuple[dict, list]:
    """The nodes ``{id: (label, attributes text)}`` and edges ``[(src, dst)]`` of the DOT
    text that :func:`tidu.viz.to_dot` writes."""
    nodes, edges = {}, []
    for line in text.splitlines():
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2)))
            continue
        m = _NODE.match(line)
        if m and m.group(1) not in ("node", "edge"):
            nodes[m.group(1)] = (_unquote(m.group(2)), m.group(3))
    return nodes, edges


def layers_of(nodes: dict, edges: list) -> dict:
    """Column of each node: the length of the longest path to it from an input."""
    preds: dict = {n: [] for n in nodes}
    for a, b in edges:
        preds.setdefault(b, []).append(a)
    depth: dict = {}
    for start in nodes:
        stack = [start]
        while stack:  # iterative: graphs of any depth
            n = stack[-1]
            todo = [p for p in preds.get(n, []) if p not in depth]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            depth[n] = 1 + max((depth[p] for p in preds.get(n, [])), default=-1)
    return depth


def plot_graph(*roots, show_values: bool = True, show_grads: bool = True,
               show_constants: bool = False, max_elements: int = 4, title: str | None = None,
               path: str | os.PathLike | None = None):
    """Draw the graph that produced ``roots`` (tensors, as for :func:`tidu.viz.to_dot`).

    To show gradients, call ``backward(retain_graph=True)`` first and ``retain_grad()`` on
    the intermediate tensors. Returns the Figure; its single axes holds one text box per
    tensor and per operation (``fig.axes[0].texts``), and one arrow per edge.
    """
    from ..viz import to_dot

    text = to_dot(*roots, show_values=show_values, show_grads=show_grads,
                  show_constants=show_constants, max_elements=max_elements)
    nodes, edges = parse_dot(text)
    depth = layers_of(nodes, edges)
    columns: dict = {}
    for n in nodes:
        columns.setdefault(depth[n], []).append(n)
    width = max(columns) + 1
    height = max(len(c) for c in columns.values())
    fig = figure(max(4.0, 1.7 * width), max(2.0, 1.3 * height))
    ax = fig.add_subplot()
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-0.7, height - 0.3)
    ax.set_axis_off()
    pos = {}
    for col, members in columns.items():
        for k, n in enumerate(members):
            pos[n] = (col, (height - 1) / 2 + (len(members) - 1) / 2 - k)
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 22,
                                "shrinkB": 22})
    for n, (label, attrs) in nodes.items():
        op = "ellipse" in attrs
        fill = re.search(r'fillcolor="([^"]+)"', attrs)
        ax.text(*pos[n], label, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round,pad=0.4" if op else "square,pad=0.4",
                      "facecolor": fill.group(1) if fill else "white",
                      "edgecolor": "0.3"})
    if title:
        ax.set_title(title)
    return finish(fig, path)
