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


@settings(max_examples=100, deadline=None)
@given(programs())
def test_sweeping_twice_doubles_leaf_gradients(program):
    leaves, steps = program
    nodes = [fastgrad.Value(x) for x in leaves]
    for op, a, b in steps:
        nodes.append(apply(op, nodes[a], nodes[b] if op in BINARY else b))
    nodes[-1].backward()
    once = [n.grad for n in nodes]
    nodes[-1].backward()
    k = len(leaves)
    assert all(same_float(2 * g, n.grad) for g, n in zip(once[:k], nodes[:k]))
    assert all(same_float(g, n.grad) for g, n in zip(once[k:], nodes[k:]))
