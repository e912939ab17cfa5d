"""Seeing the recorded graph: ``to_dot``, ``draw_dot`` and ``tape_table``.

All three walk the graph from a root (a ``Value``, a ``fastgrad.reference.Value`` or a
``Tensor``) towards its leaves, breadth first, with an explicit queue (no recursion), and
number the nodes they show in recording order: the order of the tape, so the reverse
sweep runs from the largest number to the smallest.

Value nodes are records ``label | data | grad`` (4 decimals) with an op node between a
result and its operands; Tensor nodes show their number, op, shape, and the value and
gradient arrays (abbreviated past a few elements). Past ``max_nodes`` the drawing keeps
the nodes nearest the root and draws one "... more nodes" box in place of the rest, so a
huge graph gives a small drawing, quickly.

``to_dot`` needs nothing but numpy; ``draw_dot`` returns a ``graphviz.Digraph`` (install
``fastgrad[viz]`` and, to render, the Graphviz programs), which Jupyter displays inline.
"""
from collections import deque

import numpy as np

__all__ = ["to_dot", "draw_dot", "tape_table", "DEFAULT_MAX_NODES"]

#: How many nodes a drawing shows before it summarises the rest.
DEFAULT_MAX_NODES = 200
_COUNT_LIMIT = 1_000_000       # stop counting left-out nodes here


def _is_tensor(x):
    from ._tensor import Tensor
    return isinstance(x, Tensor)


def _is_function(x):
    from .function import Function
    return isinstance(x, Function)


def _check_root(root):
    if _is_tensor(root) or hasattr(type(root), "_fastgrad_engine") or _is_function(root):
        return
    raise TypeError(f"expected a fastgrad Value, Tensor or Function as the root, got "
                    f"{type(root).__name__}")


def _walk(root, max_nodes):
    """The nodes nearest ``root`` (at most max_nodes) and how many more there are.

    Returns ``(nodes, left_out)``: nodes sorted in recording order, left_out a count
    (capped at _COUNT_LIMIT).
    """
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    seen = {id(root): root}
    queue = deque([root])
    shown = []
    left_out = 0
    while queue:
        node = queue.popleft()
        if max_nodes is None or len(shown) < max_nodes:
            shown.append(node)
        else:
            left_out += 1
            if left_out >= _COUNT_LIMIT:
                break
        for p in node.parents:
            if id(p) not in seen:
                seen[id(p)] = p
                queue.append(p)
    shown.sort(key=lambda n: n.id)
    return shown, left_out


def _number(x):
    return f"{x:.4f}"


def _array(a, size=6):
    if a is None:
        return "None"
    a = np.asarray(a)
    if a.ndim == 0:
        return _number(float(a))
    return np.array2string(a, precision=4, threshold=size, edgeitems=2,
                           max_line_width=60, separator=" ").replace("\n", " ")


def _escape(text):
    # characters that mean something inside a DOT record label
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _op_label(node):
    k = getattr(node, "constant", None)
    return node.op if k is None else f"{node.op} {k:g}"


def _describe(nodes, left_out, root):
    """The drawing, engine-neutral: (node id, label, shape) boxes and edges."""
    number = {id(n): i for i, n in enumerate(nodes)}
    tensors = _is_tensor(root)
    boxes, edges = [], []
    missing_parents = False
    for n in nodes:
        i = number[id(n)]
        name = f"n{i}"
        if tensors:
            label = (f"#{i} {n.op or 'leaf'} | shape {tuple(n.shape)} | "
                     f"value {_escape(_array(n.data))} | grad {_escape(_array(n.grad))}")
        else:
            label = (f"{_escape(n.label) if n.label else '#' + str(i)} | "
                     f"data {_number(n.data)} | grad {_number(n.grad)}")
        boxes.append((name, "{ " + label + " }", "record"))
        target = name
        if n.op and not tensors:
            boxes.append((name + "op", _escape(_op_label(n)), "ellipse"))
            edges.append((name + "op", name))
            target = name + "op"
        for p in n.parents:
            if id(p) in number:
                edges.append((f"n{number[id(p)]}", target))
            else:
                missing_parents = True
                edges.append(("more", target))
    if left_out:
        more = f"{left_out:,}" + ("+" if left_out >= _COUNT_LIMIT else "")
        boxes.insert(0, ("more", f"... {more} more nodes", "note"))
    elif missing_parents:  # pragma: no cover - cannot happen: parents are always walked
        boxes.insert(0, ("more", "...", "note"))
    return boxes, list(dict.fromkeys(edges))


def _parts(root, max_nodes):
    if _is_function(root):          # its program: one node per instruction
        return root._dot_parts(max_nodes)
    nodes, left_out = _walk(root, max_nodes)
    return _describe(nodes, left_out, root)


def _dot_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(root, rankdir="LR", max_nodes=DEFAULT_MAX_NODES):
    """The graph behind ``root`` as DOT text (no graphviz package needed).

    Parameters
    ----------
    root : Value, reference.Value, Tensor or Function
        A Function is drawn as its program: a node per instruction, guards as diamonds.
    rankdir : str, default "LR"
        Graphviz layout direction ("LR" left to right, "TB" top to bottom).
    max_nodes : int or None, default 200
        Show at most this many nodes (those nearest the root); None shows all.
    """
    _check_root(root)
    boxes, edges = _parts(root, max_nodes)
    lines = ["digraph fastgrad {", f"  graph [rankdir={_dot_string(rankdir)}];"]
    for name, label, shape in boxes:
        label = label.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'  {name} [label="{label}", shape={shape}];')
    for a, b in edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_dot(root, rankdir="LR", max_nodes=DEFAULT_MAX_NODES):
    """The graph behind ``root`` as a ``graphviz.Digraph`` (displays itself in Jupyter).

    Same arguments as ``to_dot``. ``draw_dot(L).render("graph", format="svg")`` writes
    ``graph.svg`` where the Graphviz programs are installed.
    """
    _check_root(root)
    try:
        import graphviz  # untyped
    except ImportError:
        raise ImportError("draw_dot needs the graphviz package: pip install "
                          "'fastgrad[viz]' (to render files, also the Graphviz programs, "
                          "e.g. apt install graphviz); to_dot() gives the DOT text "
                          "without it") from None
    boxes, edges = _parts(root, max_nodes)
    dot = graphviz.Digraph("fastgrad", graph_attr={"rankdir": rankdir})
    for name, label, shape in boxes:
        dot.node(name, label=label, shape=shape)
    for a, b in edges:
        dot.edge(a, b)
    return dot


def tape_table(root, max_nodes=1000):
    """The Wengert list of the graph behind ``root``, as text, in recording order.

    One row per node: its number, op, the numbers of its operands, label, value and
    gradient. For a ``Function``, its program: one row per instruction (op, result slot,
    operand slots or constants, and what each guard compares). The reverse sweep visits the rows from the last to the first. With more
    than ``max_nodes`` nodes, the rows nearest the root are shown (None shows all).
    """
    _check_root(root)
    if _is_function(root):
        return root._tape_table(max_nodes)
    nodes, left_out = _walk(root, max_nodes)
    number = {id(n): i for i, n in enumerate(nodes)}
    tensors = _is_tensor(root)
    rows = []
    for i, n in enumerate(nodes):
        parents = ", ".join(str(number[id(p)]) if id(p) in number else "..."
                            for p in n.parents)
        if tensors:
            label = str(tuple(n.shape))
            value, grad = _array(n.data), _array(n.grad)
        else:
            label = n.label
            value, grad = _number(n.data), _number(n.grad)
        rows.append((str(i), _op_label(n) or "leaf", parents, label, value, grad))
    header = ("id", "op", "parents", "shape" if tensors else "label", "value", "grad")
    widths = [max(len(r[c]) for r in rows + [header]) for c in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    lines = [fmt(header), fmt(tuple("-" * w for w in widths))]
    if left_out:
        more = f"{left_out:,}" + ("+" if left_out >= _COUNT_LIMIT else "")
        lines.append(f"... {more} earlier nodes not shown")
    lines += [fmt(r) for r in rows]
    return "\n".join(lines) + "\n"
