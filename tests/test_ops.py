"""Every scalar op, one line each: value and gradient against finite differences,
against the other engine, and against PyTorch float64 where it is installed.

The same lambda runs on fastgrad Values, reference Values, floats (for finite
differences) and torch tensors, so a case is written once.
"""
import math

import pytest

import fastgrad
import fastgrad.reference
from fastgrad import _scalar
from fastgrad.reference import Value as RefValue

from conftest import numeric_grad, same_float

# name: (function, point). Points avoid kinks (relu, abs at 0) and domain edges.
CASES = {
    "add": (lambda x, y: x + y, (0.7, -1.3)),
    "sub": (lambda x, y: x - y, (0.7, -1.3)),
    "mul": (lambda x, y: x * y, (0.7, -1.3)),
    "div": (lambda x, y: x / y, (0.7, -1.3)),
    "pow": (lambda x, y: x ** y, (1.7, -1.3)),
    "add_const": (lambda x: x + 2.5, (0.7,)),
    "radd_const": (lambda x: 2.5 + x, (0.7,)),
    "sub_const": (lambda x: x - 2.5, (0.7,)),
    "rsub_const": (lambda x: 2.5 - x, (0.7,)),
    "mul_const": (lambda x: x * 2.5, (0.7,)),
    "rmul_const": (lambda x: 2.5 * x, (0.7,)),
    "div_const": (lambda x: x / 2.5, (0.7,)),
    "rdiv_const": (lambda x: 2.5 / x, (0.7,)),
    "pow_const": (lambda x: x ** 3, (-0.7,)),
    "pow_frac": (lambda x: x ** 0.5, (1.7,)),
    "rpow_const": (lambda x: 2.5 ** x, (0.7,)),
    "neg": (lambda x: -x, (0.7,)),
    "tanh": (lambda x: x.tanh(), (0.7,)),
    "relu_pos": (lambda x: x.relu(), (0.7,)),
    "relu_neg": (lambda x: x.relu(), (-0.7,)),
    "sigmoid": (lambda x: x.sigmoid(), (0.7,)),
    "sigmoid_neg": (lambda x: x.sigmoid(), (-3.1,)),
    "exp": (lambda x: x.exp(), (0.7,)),
    "log": (lambda x: x.log(), (0.7,)),
    "sin": (lambda x: x.sin(), (0.7,)),
    "cos": (lambda x: x.cos(), (0.7,)),
    "sqrt": (lambda x: x.sqrt(), (0.7,)),
    "abs_pos": (lambda x: x.abs(), (0.7,)),
    "abs_neg": (lambda x: abs(x), (-0.7,)),
    "reused": (lambda x, y: x * x + x / y - y * x.tanh(), (0.7, -1.3)),
}

def run(V, case):
    fn, point = CASES[case]
    xs = [V(p) for p in point]
    out = fn(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_finite_differences(V, case):
    # check_grads-style: central differences of the engine's own forward pass
    fn, point = CASES[case]
    _, grads = run(V, case)
    expected = numeric_grad(lambda *p: fn(*map(V, p)).data, list(point))
    assert grads == pytest.approx(expected, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("case", sorted(CASES))
def test_engines_agree(case):
    value, grads = run(fastgrad.Value, case)
    ref_value, ref_grads = run(RefValue, case)
    assert same_float(value, ref_value)
    assert all(same_float(g, r) for g, r in zip(grads, ref_grads))


@pytest.mark.parametrize("case", sorted(CASES))
def test_against_pytorch(case):
    torch = pytest.importorskip("torch")
    fn, point = CASES[case]
    value, grads = run(fastgrad.Value, case)
    ts = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point]
    out = fn(*ts)
    out.backward()
    assert same_float(value, out.item(), rel=1e-14)
    for g, t in zip(grads, ts):
        assert same_float(g, t.grad.item(), rel=1e-13)


# Comparisons return bools and record a guard row (see tests/test_function.py for what
# guards do): key of the row each records -> (function, point).
GUARDS = {
    "lt": (lambda x, y: x < y, (0.3, 0.5)),
    "lt (x > y recorded as y < x)": (lambda x, y: x > y, (0.3, 0.5)),
    "le": (lambda x, y: x <= y, (0.5, 0.5)),
    "le (x >= y recorded as y <= x)": (lambda x, y: x >= y, (0.3, 0.5)),
    "ltk": (lambda x: x < 0.5, (0.3,)),
    "lek": (lambda x: x <= 0.5, (0.7,)),
    "gtk": (lambda x: x > 0.5, (0.3,)),
    "gek": (lambda x: 0.5 <= x, (0.5,)),
}


def row_key(case):
    fn, point = CASES[case]
    return _scalar.op_of(fn(*map(fastgrad.Value, point))).key


def test_every_op_has_a_case():
    # adding a row to the op table without a line in CASES (or GUARDS) fails here
    seen = {row_key(case) for case in CASES}
    seen |= {case.split()[0] for case in GUARDS}
    assert {row.key for row in _scalar.OPS} - {"leaf"} <= seen


@pytest.mark.parametrize("case", sorted(GUARDS))
def test_comparisons_record_guard_rows(case):
    fn, point = GUARDS[case]
    xs = [fastgrad.Value(p) for p in point]
    outcome = fn(*xs)
    row, value, *_ = fastgrad.current_tape()._last_row()
    assert row.guard and row.key == case.split()[0]
    assert isinstance(outcome, bool) and outcome == fn(*point) and value == float(outcome)


def operands(case):
    """(op-table row, x, y) of the op a case records: y is the second operand's value,
    the constant, or 0."""
    fn, point = CASES[case]
    out = fn(*map(fastgrad.Value, point))
    row = _scalar.op_of(out)
    parents = out.parents
    y = parents[1].data if row.arity == 2 else (out.constant if row.constant else 0.0)
    return row, parents[0].data, y


SINGLE = sorted(c for c in CASES if c != "reused")


@pytest.mark.parametrize("case", SINGLE)
def test_second_partials_match_finite_differences(case):
    # the row's rule2 against central differences of its own partials
    row, x, y = operands(case)
    h = 1e-6
    dxx, dxy, dyy = _scalar.apply2(row.code, x, y)
    up, down = _scalar.apply(row.code, x + h, y), _scalar.apply(row.code, x - h, y)
    assert dxx == pytest.approx((up[1] - down[1]) / (2 * h), rel=1e-6, abs=1e-7)
    if row.arity == 2:
        up, down = _scalar.apply(row.code, x, y + h), _scalar.apply(row.code, x, y - h)
        assert dxy == pytest.approx((up[1] - down[1]) / (2 * h), rel=1e-6, abs=1e-7)
        assert dyy == pytest.approx((up[2] - down[2]) / (2 * h), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("case", SINGLE)
def test_second_partials_match_pytorch(case):
    torch = pytest.importorskip("torch")
    fn, point = CASES[case]
    row, x, y = operands(case)
    t = torch.tensor(point, dtype=torch.float64)
    hess = torch.autograd.functional.hessian(lambda v: fn(*v), t)
    dxx, dxy, dyy = _scalar.apply2(row.code, x, y)
    expected = [dxx, dxy, dxy, dyy] if row.arity == 2 else [dxx]
    assert hess.flatten().tolist() == pytest.approx(expected, rel=1e-12, abs=1e-14)


# Points at which the two engines' tables are compared, domain edges included.
SAMPLES = [(0.3, 0.6), (1.7, -1.3), (-0.8, 2.0), (-0.8, 0.6), (2.5, 0.0), (0.0, 3.0),
           (0.0, -1.0), (-0.0, 0.0), (1000.0, 0.5), (-1000.0, 2.0)]


def test_engines_op_tables_agree():
    # same keys, names, methods, arities; the compiled guard rows have no reference row
    compiled = {row.key: row for row in _scalar.OPS if not row.guard}
    reference = {row.key: row for row in fastgrad.reference.OPS}
    assert sorted(compiled) == sorted(reference)
    for key, row in compiled.items():
        ref = reference[key]
        assert (row.name, row.method, row.arity, row.constant) == (
            ref.name, ref.method, ref.arity, ref.constant), key


@pytest.mark.parametrize("key", sorted(r.key for r in fastgrad.reference.OPS if r.arity))
def test_engines_rules_agree_at_sample_points(key):
    # values and partials bit for bit, IEEE edge cases included
    row = next(r for r in _scalar.OPS if r.key == key)
    rule = next(r for r in fastgrad.reference.OPS if r.key == key).rule
    for x, y in SAMPLES:
        value, dx, dy = _scalar.apply(row.code, x, y)
        if row.arity == 2:
            expected = rule(x, y)
            got = (value, dx, dy)
        else:
            expected = rule(x, y) if row.constant else rule(x)
            got = (value, dx)
        assert all(same_float(a, b, rel=0.0) for a, b in zip(got, expected)), (x, y, got,
                                                                               expected)


@pytest.mark.parametrize("name", sorted(_scalar.UNARY_OPS))
def test_every_method_row_reaches_every_front_end(name):
    assert callable(getattr(fastgrad.Value, name))
    assert callable(getattr(fastgrad.reference.Value, name))
    assert name in fastgrad.__all__ and getattr(fastgrad, name).__name__ == name
    assert name in fastgrad.reference.UNARY_OPS
    assert any(row_key(case) == name for case in CASES)


# Points where a derivative is a matter of convention: PyTorch's choices.
CONVENTIONS = [
    ("relu at 0", lambda x: x.relu(), 0.0, 0.0, 0.0),
    ("abs at 0", lambda x: x.abs(), 0.0, 0.0, 0.0),
    ("x**0 at 0", lambda x: x ** 0, 0.0, 1.0, 0.0),
    ("x**2 at 0", lambda x: x ** 2, 0.0, 0.0, 0.0),
    ("0**x at 2", lambda x: 0.0 ** x, 2.0, 0.0, 0.0),
    ("sqrt at 0", lambda x: x.sqrt(), 0.0, 0.0, math.inf),
    ("log at 0", lambda x: x.log(), 0.0, -math.inf, math.inf),
]


@pytest.mark.parametrize("name,fn,x,value,grad", CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_derivative_conventions(V, name, fn, x, value, grad):
    v = V(x)
    out = fn(v)
    out.backward()
    assert same_float(out.data, value) and same_float(v.grad, grad)


@pytest.mark.parametrize("name,fn,x,value,grad", CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_derivative_conventions_match_pytorch(name, fn, x, value, grad):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    out.backward()
    assert same_float(out.item(), value) and same_float(t.grad.item(), grad)


def test_pow_of_two_values_at_zero_base(V):
    # d(x**y)/dy is 0 where x == 0 and y >= 0 (PyTorch), not 0 * log(0) = nan
    x, y = V(0.0), V(2.0)
    out = x ** y
    out.backward()
    assert (out.data, x.grad, y.grad) == (0.0, 0.0, 0.0)


IEEE = [
    ("log(-1)", lambda x: x.log(), -1.0, math.nan, -1.0),
    ("sqrt(-1)", lambda x: x.sqrt(), -1.0, math.nan, math.nan),
    ("1/x at 0", lambda x: 1.0 / x, 0.0, math.inf, -math.inf),
    ("x/0", lambda x: x / 0.0, 1.0, math.inf, math.inf),
    ("-x/0", lambda x: -x / 0.0, 1.0, -math.inf, -math.inf),
    ("0/0", lambda x: x / 0.0, 0.0, math.nan, math.inf),
    ("exp(1000)", lambda x: x.exp(), 1000.0, math.inf, math.inf),
    ("(-8)**(1/3)", lambda x: x ** (1 / 3), -8.0, math.nan, math.nan),
    ("0**-1", lambda x: x ** -1, 0.0, math.inf, -math.inf),
    ("tanh(1000)", lambda x: x.tanh(), 1000.0, 1.0, 0.0),
    ("sigmoid(-1000)", lambda x: x.sigmoid(), -1000.0, 0.0, 0.0),
    ("sigmoid(1000)", lambda x: x.sigmoid(), 1000.0, 1.0, 0.0),
]


@pytest.mark.parametrize("name,fn,x,value,grad", IEEE, ids=[c[0] for c in IEEE])
def test_ieee_results_and_backward_runs(V, name, fn, x, value, grad):
    v = V(x)
    out = fn(v)
    out.backward()
    assert same_float(out.data, value), out.data
    assert same_float(v.grad, grad), v.grad


@pytest.mark.parametrize("name", sorted(_scalar.UNARY_OPS))
def test_functions_take_values_and_floats(V, name):
    fn = getattr(fastgrad, name)
    x = 0.7
    out = fn(V(x))
    assert isinstance(out, V) and out.op == name
    assert fn(x) == out.data and isinstance(fn(x), float)
    assert fn(1) == fn(1.0)


def test_functions_refuse_other_types():
    with pytest.raises(TypeError, match="tanh.*str"):
        fastgrad.tanh("0.5")
