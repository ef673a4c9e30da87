"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts (box-drawing
characters, or ASCII when the output stream cannot encode them)."""

import sys

import numpy as np

__all__ = ["print_summary"]

_BOX = {"tl": "┏", "tm": "┳", "tr": "┓", "h": "━", "v": "┃", "hl": "┡", "hm": "╇", "hr": "┩", "l": "├", "m": "┼", "r": "┤", "b": "─", "bv": "│", "bl": "└", "bm": "┴", "br": "┘"}
_ASCII = {"tl": "+", "tm": "+", "tr": "+", "h": "=", "v": "|", "hl": "+", "hm": "+", "hr": "+", "l": "+", "m": "+", "r": "+", "b": "-", "bv": "|", "bl": "+", "bm": "+", "br": "+"}


def _can_encode(text):
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _output_shape(layer):
    nodes = layer._inbound_nodes
    if not nodes:
        return None
    outs = nodes[-1].outputs if len(nodes) == 1 else nodes[0].outputs
    shapes = [tuple(o.shape) for o in outs]
    return shapes[0] if len(shapes) == 1 else shapes


def _count(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _readable_size(n_params, dtype_bytes=4):
    size = float(n_params * dtype_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _wrap(text, width):
    text = str(text)
    lines = []
    while len(text) > width:
        lines.append(text[:width])
        text = text[width:]
    lines.append(text)
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
    from rkeras.models.functional import Functional
    from rkeras.models.sequential import Sequential

    print_fn = print_fn or (lambda line, **kw: print(line))
    sequential_like = isinstance(model, Sequential) or not isinstance(model, Functional)
    if isinstance(model, Sequential):
        layers = model.layers
    elif isinstance(model, Functional):
        layers = model.layers
    else:
        layers = model._layers

    headers = ["Layer (type)", "Output Shape", "Param #"]
    widths = [31, 22, 13]
    if not sequential_like:
        headers.append("Connected to")
        widths = [29, 20, 9, 20]
    if show_trainable:
        headers.append("Trainable")
        widths.append(9)
    if line_length:
        scale = line_length / (sum(widths) + len(widths) + 1)
        widths = [max(8, int(w * scale)) for w in widths]

    rows = []
    for layer in layers:
        name = f"{layer.name} ({type(layer).__name__})"
        shape = _format_shape(_output_shape(layer)) if layer.built else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [name, shape, params]
        if not sequential_like:
            row.append(_connections(layer, model))
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append(row)

    box = _BOX if _can_encode("━┃│") else _ASCII
    aligns = ["<", "<", ">"] + ["<"] * (len(widths) - 3)

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def render(cells, sep):
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for col, (lines, w, a) in enumerate(zip(wrapped, widths, aligns)):
                text = lines[i] if i < len(lines) else ""
                parts.append(" " + (text.ljust(w) if a == "<" else text.rjust(w)) + " ")
            out.append(sep + sep.join(parts) + sep)
        return out

    print_fn(f'Model: "{model.name}"')
    print_fn(line(box["tl"], box["tm"], box["tr"], box["h"]))
    for text in render(headers, box["v"]):
        print_fn(text)
    print_fn(line(box["hl"], box["hm"], box["hr"], box["h"]))
    for i, row in enumerate(rows):
        for text in render(row, box["bv"]):
            print_fn(text)
        if i < len(rows) - 1:
            print_fn(line(box["l"], box["m"], box["r"], box["b"]))
    print_fn(line(box["bl"], box["bm"], box["br"], box["b"]))

    if model.built:
        trainable = _count(model.trainable_weights)
        non_trainable = _count(model.non_trainable_weights)
    else:
        trainable = non_trainable = 0
    total = trainable + non_trainable
    optimizer_params = 0
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        optimizer_params = _count(getattr(optimizer, "variables", []))
    print_fn(f" Total params: {total + optimizer_params:,} ({_readable_size(total + optimizer_params)})")
    print_fn(f" Trainable params: {trainable:,} ({_readable_size(trainable)})")
    print_fn(f" Non-trainable params: {non_trainable:,} ({_readable_size(non_trainable)})")
    if optimizer_params:
        print_fn(f" Optimizer params: {optimizer_params:,} ({_readable_size(optimizer_params)})")


def _connections(layer, model):
    from rkeras.symbolic import KerasTensor

    refs = []
    nodes = [n for n in layer._inbound_nodes if model._node_in_model(n)]
    for node in nodes:
        for t in node.arguments_flat:
            if isinstance(t, KerasTensor) and t._keras_history is not None:
                op, node_index, tensor_index = t._keras_history
                refs.append(f"{op.name}[{node_index}][{tensor_index}]")
    return ", ".join(refs) if refs else "-"
