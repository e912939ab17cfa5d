"""Drawing and inspecting graphs: DOT text, graphviz Digraphs, rendering, Wengert tables."""
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import fastgrad
from fastgrad import Tensor, Value, draw_dot, tape_table, to_dot
from fastgrad.reference import Value as RefValue

from test_functional import SEED000_ARGS, seed000_loss


def L_graph(V):
    a, b = V(2.0, label="a"), V(-3.0, label="b")
    c, f = V(10.0, label="c"), V(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    return L


def records(dot):
    """label -> (data, grad) of every Value record in DOT text."""
    found = re.findall(r'label="\{ (\S+) \| data (\S+) \| grad (\S+) \}"', dot)
    return {name: (data, g) for name, data, g in found}


def edges(dot):
    return set(re.findall(r"^  (\w+) -> (\w+);$", dot, re.M))


def names(dot):
    return dict(re.findall(r'^  (\w+) \[label="([^"]*)"', dot, re.M))


@pytest.mark.parametrize("V", [Value, RefValue], ids=["compiled", "reference"])
def test_dot_of_the_L_expression(V):
    dot = to_dot(L_graph(V))
    assert dot.startswith("digraph fastgrad {") and 'rankdir="LR"' in dot
    assert records(dot) == {
        "a": ("2.0000", "6.0000"), "b": ("-3.0000", "-4.0000"), "c": ("10.0000", "-2.0000"),
        "f": ("-2.0000", "4.0000"), "e": ("-6.0000", "-2.0000"), "d": ("4.0000", "-2.0000"),
        "L": ("-8.0000", "1.0000")}
    by_label = {v.split(" |")[0][2:]: k for k, v in names(dot).items() if v.startswith("{")}
    ops = {k: v for k, v in names(dot).items() if not v.startswith("{")}
    assert sorted(ops.values()) == ["*", "*", "+"]
    e, d, L = by_label["e"], by_label["d"], by_label["L"]
    assert edges(dot) == {
        (e + "op", e), (by_label["a"], e + "op"), (by_label["b"], e + "op"),
        (d + "op", d), (e, d + "op"), (by_label["c"], d + "op"),
        (L + "op", L), (d, L + "op"), (by_label["f"], L + "op")}


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def test_dot_of_the_neuron():
    dot = to_dot(neuron())
    recs = records(dot.replace("x1*w1 + x2*w2", "sum"))
    assert recs["o"] == ("0.7071", "1.0000") and recs["n"] == ("0.8814", "0.5000")
    assert recs["x1"] == ("2.0000", "-1.5000") and recs["w1"] == ("-3.0000", "1.0000")
    assert recs["x2"] == ("0.0000", "0.5000") and recs["w2"] == ("1.0000", "0.0000")
    assert sorted(v for v in names(dot).values() if not v.startswith("{")) == \
        ["*", "*", "+", "+", "tanh"]
    assert len(edges(dot)) == 4 * 3 + 2              # op -> result, operands -> op


def test_constants_show_in_the_op_node():
    x = Value(1.0, label="x")
    assert 'label="* 3", shape=ellipse' in to_dot(x * 3)


def test_tensor_graph_of_seed000():
    # PyTorch style: grad() (autograd style) leaves no .grad on the Tensors it records
    root = seed000_loss(fastgrad.numpy)([Tensor(a, requires_grad=True) for a in SEED000_ARGS])
    root.backward()
    dot = to_dot(root)
    labels = names(dot)
    assert len(labels) == 6 + 9                      # six inputs, nine recorded ops
    ops = [re.match(r"\{ #(\d+) (\S+) \| shape (\([\d, ]*\))", v).groups()
           for v in labels.values()]
    assert sorted(op for _, op, _ in ops).count("leaf") == 6
    assert ("14", "mean", "()") in ops and ("0", "leaf", "(3, 1)") in ops
    assert any("@" == op and shape == "(4, 1)" for _, op, shape in ops)
    for a, b in edges(dot):                          # numbers grow in recording order
        assert int(a[1:]) < int(b[1:])
    assert "grad [[0.928]" in dot.replace("\\", "")  # w2b's gradient, as seed 000 prints


def test_tensor_arrays_are_abbreviated():
    t = Tensor(np.arange(1000.0), requires_grad=True)
    y = (t * 2.0).sum()
    y.backward()
    dot = to_dot(y)
    assert len(dot) < 2000 and "..." in dot


def test_large_graphs_are_summarised():
    x = Value(0.5)
    for _ in range(10_000):
        x = (x * 1.0001 + 0.1)
    dot = to_dot(x)                                  # 20,001 nodes, default max_nodes
    assert len(dot) < 50_000
    assert len(names(dot)) <= 2 * fastgrad.viz.DEFAULT_MAX_NODES + 1
    assert "... 19,801 more nodes" in dot
    assert all(len(line) < 200 for line in dot.splitlines())
    full = to_dot(x, max_nodes=None)
    assert "more nodes" not in full and len(names(full)) == 20_001 + 20_000
    with pytest.raises(ValueError, match="max_nodes must be at least 1"):
        to_dot(x, max_nodes=0)


def test_tape_table_is_the_wengert_list():
    table = tape_table(L_graph(Value)).splitlines()
    assert table[0].split() == ["id", "op", "parents", "label", "value", "grad"]
    rows = [line.split() for line in table[2:]]
    assert [r[0] for r in rows] == [str(i) for i in range(7)]
    assert rows[-1] == ["6", "*", "5,", "3", "L", "-8.0000", "1.0000"]
    assert rows[4] == ["4", "*", "0,", "1", "e", "-6.0000", "-2.0000"]
    assert [r[1] for r in rows[:4]] == ["leaf"] * 4


def test_tape_table_of_tensors_and_summaries():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    y = (w @ w).tanh().sum()
    y.backward()
    table = tape_table(y)
    assert " @ " in table and "(2, 2)" in table and table.splitlines()[-1].startswith("3")
    x = Value(1.0)
    for _ in range(50):
        x = x + 1.0
    short = tape_table(x, max_nodes=10).splitlines()
    assert short[2] == "... 41 earlier nodes not shown" and len(short) == 13


def test_bad_roots():
    with pytest.raises(TypeError, match="expected a fastgrad Value or Tensor, got float|"
                                        "as the root, got float"):
        to_dot(1.0)


def test_draw_dot_builds_a_digraph():
    graphviz = pytest.importorskip("graphviz")
    g = draw_dot(L_graph(Value), rankdir="TB")
    assert isinstance(g, graphviz.Digraph)
    assert g.graph_attr["rankdir"] == "TB"
    source = g.source
    assert "a | data 2.0000 | grad 6.0000" in source and "->" in source


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz programs are not "
                                                        "installed (.ci/run installs them)")
def test_rendered_svg_parses(tmp_path):
    pytest.importorskip("graphviz")
    path = draw_dot(neuron()).render(tmp_path / "neuron", format="svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "0.7071" in text and "tanh" in text
    png = draw_dot(neuron()).render(tmp_path / "neuron", format="png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_missing_graphviz_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'fastgrad\[viz\]'.*to_dot"):
        draw_dot(Value(1.0))
