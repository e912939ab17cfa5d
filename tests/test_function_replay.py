"""The replay's reverse sweep: the unit partials (add, sub, neg, x + k, x - k, k - x)
added or subtracted without a multiply, ops of one operand touching only it, the
one-sample and the batched sweeps; every op against the eager engine, bit for bit."""
import random

import numpy as np
import pytest

from fastgrad import Value, _scalar, trace

from test_ops import CASES


def eager(fn, point):
    xs = [Value(p) for p in point]
    out = fn(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


def near(point, rng):
    return [p * rng.uniform(0.6, 1.4) + (0.0 if p else rng.uniform(-0.1, 0.1)) for p in point]


def same(a, b):
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_gradients_of_every_op_equal_one_sample_and_eager_sweeps(case):
    # an op used twice, once through a unit partial: x reaches the output by two paths
    fn, point = CASES[case]

    def twice(*xs):
        y = fn(*xs)
        return y * xs[0] - (y + 0.5) + (-y) * 0.25
    F = trace(twice, *point)
    rng = random.Random(case)
    points = [near(point, rng) for _ in range(9)]
    batched = F.vmap((0,) * len(point))
    columns = [np.array([p[i] for p in points]) for i in range(len(point))]
    values, _ = batched.value_and_grad(*columns)
    for i in range(len(point)):
        g = batched.grad(*columns, argnum=i)
        for s, p in enumerate(points):
            value, grads = eager(twice, p)
            assert same(values[s], value)
            assert same(F.grad(*p, argnum=i), grads[i])       # the one-sample sweep
            assert same(g[s], grads[i])                       # the batched sweep


def test_unit_partials_with_both_operands_the_same_value():
    # x + x, x - x, and k - x: the adjoint lands twice (or cancels) on one slot
    F = trace(lambda x, y: (x + x) * y + (x - x) * y + (3.0 - x) * (y - x) - (-y), 0.3, 0.7)
    for x, y in [(0.3, 0.7), (-1.5, 2.0), (4.0, -0.1)]:
        gx = 2 * y + (-(y - x) - (3.0 - x))
        gy = 2 * x + (3.0 - x) + 1.0
        assert np.isclose(F.grad(x, y, argnum=0), gx, rtol=1e-14)
        assert np.isclose(F.grad(x, y, argnum=1), gy, rtol=1e-14)
        B = F.vmap((0, 0))
        g = B.grad(np.array([x, x]), np.array([y, y]))
        assert same(g, [F.grad(x, y), F.grad(x, y)])


def test_non_finite_adjoints_flow_through_unit_partials():
    # IEEE in, IEEE out: inf * 0 partial gives nan on the multiplying path as before
    F = trace(lambda x, y: (x + y) * 0.0 + (x - y).exp(), 1.0, 2.0)
    _, grads = eager(lambda x, y: (x + y) * 0.0 + (x - y).exp(), [1000.0, 0.0])
    assert same(F.grad(1000.0, 0.0), grads[0])
    assert same(F.grad(1000.0, 0.0, argnum=1), grads[1])


@pytest.mark.parametrize("code", [r.code for r in _scalar.OPS if r.arity and not r.guard])
def test_every_rows_unit_bits_match_its_rule(code):
    # a unit bit on a partial that is not +-1 everywhere would give wrong gradients
    row = _scalar.OPS[code]
    ux, uy = _scalar.unit(code)
    rng = random.Random(code)
    for _ in range(50):
        x, y = rng.uniform(-3.0, 3.0), rng.uniform(-3.0, 3.0)
        _, dx, dy = _scalar.apply(code, x, y)
        if ux is not None:
            assert dx == ux, (row.key, x, y)
        if uy is not None:
            assert row.arity == 2 and dy == uy, (row.key, x, y)


def test_the_linear_ops_have_unit_bits():
    units = {r.key: _scalar.unit(r.code) for r in _scalar.OPS if r.arity}
    assert units["add"] == (1.0, 1.0) and units["sub"] == (1.0, -1.0)
    assert units["neg"] == (-1.0, None) and units["rsubk"] == (-1.0, None)
    assert units["addk"] == (1.0, None) and units["subk"] == (1.0, None)
    assert units["mul"] == (None, None) and units["tanh"] == (None, None)
    with pytest.raises(ValueError, match="op code"):
        _scalar.unit(-1)


@pytest.mark.parametrize("form", ["x*a", "a*x", "x*x", "x+a", "a+x", "x+x", "x-a", "a-x",
                                  "x-x", "-x", "x+1", "1-x"])
def test_one_sample_sweep_on_chains_of_every_operand_order(form):
    # the one-sample sweep keeps the adjoint the next instruction reads in a register:
    # chains where that operand is the first, the second, or both, against eager
    step = {"x*a": lambda x, a: x * a, "a*x": lambda x, a: a * x, "x*x": lambda x, a: x * x,
            "x+a": lambda x, a: x + a, "a+x": lambda x, a: a + x, "x+x": lambda x, a: x + x,
            "x-a": lambda x, a: x - a, "a-x": lambda x, a: a - x, "x-x": lambda x, a: x - x,
            "-x": lambda x, a: -x, "x+1": lambda x, a: x + 1.0, "1-x": lambda x, a: 1.0 - x}[form]

    def chain(x, a):
        for _ in range(40):
            x = step(x, a).tanh() * 0.9 + a.sin() * x
        return x
    F = trace(chain, 0.3, 0.7)
    for point in ([0.3, 0.7], [-0.8, 0.2], [1.1, -0.5]):
        value, grads = eager(chain, point)
        assert same(F(*point), value)
        assert same(F.grad(*point, argnum=0), grads[0])
        assert same(F.grad(*point, argnum=1), grads[1])


def test_result_arrays_are_reused_only_when_nothing_refers_to_them():
    import weakref
    F = trace(lambda w, x: (w[0] * x + w[1]).tanh() * w[2], [0.1, 0.2, 0.3], 0.5)
    B = F.vmap((None, 0))
    W = np.array([0.3, -0.2, 1.5])
    X1, X2 = np.linspace(-1, 1, 50), np.linspace(2, 3, 50)
    P = F.program
    x1 = np.concatenate([np.repeat(W[:, None], 50, axis=1), X1[None, :]]).ravel()
    x2 = np.concatenate([np.repeat(W[:, None], 50, axis=1), X2[None, :]]).ravel()
    ones = np.ones(50)
    # held: a later call returns a new array and leaves the held one alone
    g1 = P.run(x1, 50, seed=ones)[2]
    kept = g1.copy()
    g2 = P.run(x2, 50, seed=ones)[2]
    assert g2 is not g1 and np.array_equal(g1, kept) and not np.array_equal(g2, kept)
    # a view, or a weak reference, keeps it too
    view = P.run(x1, 50, seed=ones)[2][10:20]
    kept_view = view.copy()
    P.run(x2, 50, seed=ones)
    assert np.array_equal(view, kept_view)
    a = P.run(x1, 50, seed=ones)[2]
    ref, kept_a = weakref.ref(a), a.copy()
    del a
    assert ref() is not None                    # alive through the Program's list only
    P.run(x2, 50, seed=ones)                    # not filled again: let go instead
    assert ref() is None or np.array_equal(ref(), kept_a)
    # dropped: the next call fills the same memory (no fresh pages), with new numbers
    del ref
    b = P.run(x1, 50, seed=ones)[2]
    address = b.ctypes.data
    del b
    c = P.run(x2, 50, seed=ones)[2]
    assert c.ctypes.data == address
    assert np.array_equal(c.reshape(4, 50)[:3].T, B.grad(W, X2))
    assert np.array_equal(g1, kept)
