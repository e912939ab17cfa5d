"""The figures the reference notebooks print (seeds 002 and 003), on both engines."""
import math

import pytest


def test_L_expression_every_gradient(V):
    # seed 002: L = (a*b + c) * f, gradients filled in by hand in the notebook
    a = V(2.0, label="a")
    b = V(-3.0, label="b")
    c = V(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = V(-2.0, label="f")
    L = d * f
    L.label = "L"
    L.backward()
    assert (e.data, d.data, L.data) == (-6.0, 4.0, -8.0)
    grads = {v.label: v.grad for v in (a, b, c, d, e, f, L)}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "d": -2.0, "e": -2.0,
                     "f": 4.0, "L": 1.0}
    assert L.op == "*" and d.op == "+" and e.op == "*" and a.op == ""
    assert L.parents == (d, f) and e.parents == (a, b) and a.parents == ()


def test_L_one_gradient_step(V):
    # seed 002 nudges every leaf along its gradient (h = 0.01) and recomputes L
    a, b, c, f = V(2.0), V(-3.0), V(10.0), V(-2.0)
    L = (a * b + c) * f
    L.backward()
    for leaf in (a, b, c, f):
        leaf.data += 0.01 * leaf.grad
    L = (a * b + c) * f
    assert L.data == pytest.approx(-7.286496, abs=1e-12)


def neuron(V, bias):
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(bias, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return o, n, (x1, x2, w1, w2, b)


def test_tanh_neuron_matches_pytorch_figures(V):
    # seed 002's neuron; the figures PyTorch prints for it in the notebook
    o, n, (x1, x2, w1, w2, b) = neuron(V, 6.8813735870195432)
    o.backward()
    assert abs(o.data - 0.7071067811865476) <= 1e-12
    assert abs(n.grad - 0.5) <= 1e-12
    assert abs(x1.grad - -1.5) <= 1e-12
    assert abs(w1.grad - 1.0) <= 1e-12
    assert abs(x2.grad - 0.5) <= 1e-12
    assert abs(w2.grad - 0.0) <= 1e-12
    assert abs(b.grad - 0.5) <= 1e-12


def test_tanh_neuron_against_pytorch(V):
    torch = pytest.importorskip("torch")
    o, _, leaves = neuron(V, 6.8813735870195432)
    o.backward()
    tx = [torch.tensor([v.data], dtype=torch.float64, requires_grad=True) for v in leaves]
    x1, x2, w1, w2, b = tx
    to = torch.tanh(x1 * w1 + x2 * w2 + b)
    to.backward()
    assert abs(o.data - to.item()) <= 1e-15
    for ours, theirs in zip(leaves, tx):
        assert abs(ours.grad - theirs.grad.item()) <= 1e-15


def test_x_times_y_plus_sin_x(V):
    # seed 003: z = x*y + sin(x), asserted to 1e-15 in the notebook
    x, y = V(0.5), V(4.2)
    z = x * y + x.sin()
    z.backward()
    assert abs(z.data - 2.579425538604203) <= 1e-15
    assert abs(x.grad - (y.data + math.cos(x.data))) <= 1e-15
    assert abs(y.grad - x.data) <= 1e-15
