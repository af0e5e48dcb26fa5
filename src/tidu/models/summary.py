"""model.summary(): layers, output shapes and parameter counts, as Keras prints them."""

from __future__ import annotations


def _fmt_shape(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _count(module) -> tuple[int, int]:
    total = trainable = 0
    for p in module.parameters():
        total += p.size
        if p.requires_grad:
            trainable += p.size
    return total, trainable


def summary_text(model) -> str:
    """The summary table of ``model`` (a Sequential or any Module) as a string."""
    if not model.built:
        raise ValueError(
            f"summary: model '{model.name}' is not built yet, so its weights and output shapes "
            "are unknown; give the first layer input_shape=(...) or call the model on a batch "
            "(or fit it) first"
        )
    layers = getattr(model, "layers", None)
    if layers is None:
        layers = list(model.children())
    rows = [("Layer (type)", "Output Shape", "Param #")]
    shape = getattr(model, "input_shape", None)
    graph_rows = getattr(model, "_summary_rows", None)  # a functional model: its graph
    if graph_rows is not None:
        rows = [("Layer (type)", "Output Shape", "Param #", "Connected to"), *graph_rows()]
        layers = ()
    for layer in layers:
        out = None
        if shape is not None and hasattr(layer, "compute_output_shape"):
            try:
                out = layer.compute_output_shape(shape)
            except Exception:  # a layer that cannot tell: show '?'
                out = None
        shape = out
        rows.append((f"{layer.name} ({type(layer).__name__})", _fmt_shape(out),
                     f"{_count(layer)[0]:,}"))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    widths[0] = max(widths[0], 28)
    widths[1] = max(widths[1], 22)
    line = "=" * sum(widths)
    out_lines = [f'Model: "{model.name}"', "─" * sum(widths),
                 "".join(c.ljust(w) for c, w in zip(rows[0], widths)), line]
    for r in rows[1:]:
        out_lines.append("".join(c.ljust(w) for c, w in zip(r, widths)))
    total, trainable = _count(model)
    out_lines += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}"]
    return "\n".join(out_lines)
