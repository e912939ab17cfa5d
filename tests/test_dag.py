"""Random expression DAGs: the compiled engine agrees with the reference engine."""
from hypothesis import given, settings
from hypothesis import strategies as st

import fastgrad
from fastgrad.reference import Value as RefValue

from conftest import same_float

BINARY = ["+", "-", "*", "/", "**"]
UNARY = ["neg", "tanh", "relu", "sigmoid", "exp", "log", "sin", "cos", "sqrt", "abs"]
CONST = ["+k", "k+", "-k", "k-", "*k", "k*", "/k", "k/", "**k", "k**"]

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


@st.composite
def programs(draw):
    """Leaves, then ops that each read one or two earlier nodes (so nodes are reused)."""
    leaves = draw(st.lists(finite, min_size=1, max_size=5))
    steps = []
    for i in range(draw(st.integers(1, 40))):
        n = len(leaves) + i
        kind = draw(st.sampled_from(["binary", "unary", "const"]))
        a = draw(st.integers(0, n - 1))
        if kind == "binary":
            steps.append((draw(st.sampled_from(BINARY)), a, draw(st.integers(0, n - 1))))
        elif kind == "unary":
            steps.append((draw(st.sampled_from(UNARY)), a, None))
        else:
            steps.append((draw(st.sampled_from(CONST)), a, draw(finite)))
    return leaves, steps


def apply(op, x, y):
    binary = {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
              "/": lambda: x / y, "**": lambda: x ** y}
    const = {"+k": lambda: x + y, "k+": lambda: y + x, "-k": lambda: x - y,
             "k-": lambda: y - x, "*k": lambda: x * y, "k*": lambda: y * x,
             "/k": lambda: x / y, "k/": lambda: y / x, "**k": lambda: x ** y,
             "k**": lambda: y ** x}
    if op in binary:
        return binary[op]()
    if op in const:
        return const[op]()
    return -x if op == "neg" else getattr(x, op)()


def evaluate(V, program):
    leaves, steps = program
    nodes = [V(x) for x in leaves]
    for op, a, b in steps:
        y = nodes[b] if op in BINARY else b
        nodes.append(apply(op, nodes[a], y))
    root = nodes[-1]
    root.backward()
    return [n.data for n in nodes], [n.grad for n in nodes[:len(leaves)]]


@settings(max_examples=300, deadline=None)
@given(programs())
def test_random_dags_agree_with_reference(program):
    values, grads = evaluate(fastgrad.Value, program)
    ref_values, ref_grads = evaluate(RefValue, program)
    assert all(same_float(v, r) for v, r in zip(values, ref_values)), (values, ref_values)
    assert all(same_float(g, r) for g, r in zip(grads, ref_grads)), (grads, ref_grads)


def build(program):
    leaves, steps = program
    nodes = [fastgrad.Value(x) for x in leaves]
    for op, a, b in steps:
        nodes.append(apply(op, nodes[a], nodes[b] if op in BINARY else b))
    return nodes


@settings(max_examples=100, deadline=None)
@given(programs())
def test_sweeping_twice_accumulates_on_leaves_only(program):
    # The second sweep adds the same contributions, in the same order, to leaves that
    # already hold the first sweep's gradients: bit for bit what one sweep gives on a
    # fresh graph whose leaves start at those gradients. (Comparing with 2 * g is only
    # true up to rounding: with cancelling contributions, (g + c1) + c2 != 2 * (c1 + c2).)
    k = len(program[0])
    nodes = build(program)
    nodes[-1].backward()
    once = [n.grad for n in nodes]
    nodes[-1].backward()
    fresh = build(program)
    for leaf, g in zip(fresh[:k], once[:k]):
        leaf.grad = g
    fresh[-1].backward()
    assert all(same_float(f.grad, n.grad, rel=0.0) for f, n in zip(fresh[:k], nodes[:k]))
    assert all(same_float(g, n.grad, rel=0.0) for g, n in zip(once[k:], nodes[k:]))


def test_sweeping_twice_doubles_leaf_gradients():
    a, b = fastgrad.Value(1.5), fastgrad.Value(-2.0)
    out = (a * b + a.tanh()) * b
    out.backward()
    once = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1])
