"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

Keras draws it with `rich`; this lays it out the same way without the dependency: column widths
from `positions` × `line_length` (default 88, or 108 with the "Connected to" column, +12 with
"Trainable", capped at the terminal width - 4), shrunk evenly to fit as rich shrinks fixed-width
columns, cells word-wrapped and cut with "…", box-drawing borders or rich's ASCII box when the
output stream cannot encode them. `print_fn` receives the whole table as one string, as in Keras.
"""

import re
import shutil
import sys

import numpy as np

__all__ = ["print_summary"]

# Rich's HEAVY_HEAD and ASCII boxes: (top, header row, header rule, body row, row rule, bottom),
# each as (left, fill, divider, right).
_BOX = (("┏", "━", "┳", "┓"), ("┃", " ", "┃", "┃"), ("┡", "━", "╇", "┩"), ("│", " ", "│", "│"), ("├", "─", "┼", "┤"), ("└", "─", "┴", "┘"))
_ASCII = (("+", "-", "-", "+"), ("|", " ", "|", "|"), ("|", "-", "+", "|"), ("|", " ", "|", "|"), ("|", "-", "+", "|"), ("+", "-", "-", "+"))
_WORD = re.compile(r"\s*\S+\s*")


def _encodes(text):
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


# ----- what the table shows ----------------------------------------------------------------------

def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _format_layer_shape(layer):
    """The last call's output shape(s); for a layer built outside a graph, `compute_output_shape`
    of the shapes it was built with; "?" when unknown."""
    nodes = layer._inbound_nodes
    if nodes:
        shapes = [_format_shape(t.shape) for t in nodes[-1].outputs]
    else:
        build_shapes = getattr(layer, "_build_shapes", None)
        if build_shapes is None:
            return "?"
        try:
            out = layer.compute_output_shape(build_shapes)
        except (NotImplementedError, TypeError, ValueError):
            return "?"
        if isinstance(out, tuple) and all(d is None or isinstance(d, int) for d in out):
            return _format_shape(out)
        shapes = [_format_shape(s) for s in out]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _class_name(layer):
    from rkeras.layers.op_layer import OpLayer, keras_op_class_name

    return keras_op_class_name(layer.op) if isinstance(layer, OpLayer) else type(layer).__name__


def _count(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _memory(weights):
    unique = {id(w): w for w in weights}.values()
    return sum(int(np.prod(w.shape)) * np.dtype(str(w.dtype)).itemsize for w in unique)


def _readable_size(size):
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _layers_and_kind(model):
    """(rows' layers, sequential-like?, nodes belonging to the model): a functional model whose
    graph is a plain chain without shared layers is shown like a Sequential, as in Keras."""
    from rkeras.models.functional import Functional

    if not isinstance(model, Functional):
        return model.layers, True, None
    nodes = [n for depth in sorted(model._nodes_by_depth, reverse=True) for n in model._nodes_by_depth[depth]]
    sequential_like = all(len(v) == 1 and len(v[0].arguments_flat) <= 1 for v in model._nodes_by_depth.values())
    if sequential_like:
        in_model = {id(n) for n in nodes}
        sequential_like = all(sum(id(n) in in_model for n in layer._inbound_nodes) <= 1 for layer in model.layers)
    return list(model._operations), sequential_like, nodes


def _connections(layer, relevant):
    ids = {id(n) for n in relevant}
    refs = []
    for node in layer._inbound_nodes:
        if id(node) not in ids:
            continue
        for t in node.arguments_flat:
            op, node_index, tensor_index = t._keras_history
            refs.append(f"{op.name}[{node_index}][{tensor_index}]")
    return ", ".join(refs) if refs else "-"


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: layer_range = {layer_range} of length {len(layer_range)}")
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


# ----- rich's layout -----------------------------------------------------------------------------

def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining, out = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _content_widths(widths, line_length):
    """Each column is `width` + 1 space of padding per side; when they do not fit in
    `line_length` minus the borders, rich takes the excess off evenly."""
    max_width = line_length - (len(widths) + 1)
    cells = [min(w + 2, max_width) for w in widths]
    if sum(cells) > max_width:
        cells = _ratio_reduce(sum(cells) - max_width, [1] * len(cells), cells, cells)
    return [max(c - 2, 0) for c in cells]


def _truncate(text, width, ellipsis):
    return text if len(text) <= width else text[: max(width - 1, 0)] + ellipsis


def _cell_lines(text, width, justify, ellipsis):
    """Rich's word wrap (words longer than the width cut with an ellipsis), justified."""
    breaks, offset = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width or (offset and start):
            if start:
                breaks.append(start)
            offset = len(word)
    pieces = [text[a:b] for a, b in zip([0] + breaks, breaks + [len(text)])] or [""]
    lines = []
    for piece in pieces:
        if len(piece) > width:  # whitespace beyond the width is dropped first
            trailing = len(piece) - len(piece.rstrip())
            piece = piece[: len(piece) - min(trailing, len(piece) - width)]
        if justify == "left":
            lines.append(_truncate(piece, width, ellipsis).ljust(width))
            continue
        piece = _truncate(piece.rstrip(), width, ellipsis)
        if justify == "right":
            lines.append(piece.rjust(width))
        else:
            left = (width - len(piece)) // 2
            lines.append((" " * left + piece).ljust(width))
    return lines


def _render_table(header, rows, widths, aligns, box, ellipsis):
    top, head, head_rule, body, row_rule, bottom = box

    def rule(parts):
        left, fill, divider, right = parts
        return left + divider.join(fill * (w + 2) for w in widths) + right

    def row(cells, parts, bottom_aligned=False):
        left, _, divider, right = parts
        columns = [_cell_lines(str(c), w, a, ellipsis) for c, w, a in zip(cells, widths, aligns)]
        height = max(len(c) for c in columns)
        # Rich aligns header cells to the bottom of the row, body cells to the top.
        columns = [([" " * w] * (height - len(c)) + c) if bottom_aligned else (c + [" " * w] * (height - len(c))) for c, w in zip(columns, widths)]
        return [left + divider.join(" " + c[i] + " " for c in columns) + right for i in range(height)]

    lines = [rule(top)] + row(header, head, bottom_aligned=True) + [rule(head_rule)]
    for i, cells in enumerate(rows):
        if i:
            lines.append(rule(row_rule))
        lines.extend(row(cells, body))
    lines.append(rule(bottom))
    return lines


# ----- the summary -------------------------------------------------------------------------------

def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
    layers, sequential_like, relevant = _layers_and_kind(model)
    if sequential_like:
        default_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
    else:
        default_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    widths = _content_widths(widths, line_length)

    def fields(layer, prefix=""):
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        out = [f"{prefix}{layer.name} ({_class_name(layer)})", _format_layer_shape(layer), params]
        if not sequential_like:
            out.append(_connections(layer, relevant))
        if show_trainable:
            out.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return out

    def layer_rows(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        if expand_nested and getattr(layer, "layers", None):
            for sub in layer.layers:
                rows.extend(layer_rows(sub, level + 1))
        return rows

    lo, hi = _layer_range(layers, layer_range)
    rows = [r for layer in layers[lo:hi] for r in layer_rows(layer)]

    unicode = _encodes("━┃│…")
    lines = [f'Model: "{model.name}"']
    lines += _render_table(header, rows, widths, aligns, _BOX if unicode else _ASCII, "…" if unicode else ".")
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    optimizer_vars = list(optimizer.variables) if getattr(model, "compiled", False) and optimizer is not None and optimizer.built else None
    total_count = _count(trainable) + _count(non_trainable) + _count(optimizer_vars or [])
    total_size = _memory(trainable) + _memory(non_trainable) + _memory(optimizer_vars or [])
    lines.append(f" Total params: {total_count:,} ({_readable_size(total_size)})")
    lines.append(f" Trainable params: {_count(trainable):,} ({_readable_size(_memory(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} ({_readable_size(_memory(non_trainable))})")
    if optimizer_vars is not None:
        lines.append(f" Optimizer params: {_count(optimizer_vars):,} ({_readable_size(_memory(optimizer_vars))})")
    text = "\n".join(lines) + "\n"
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
