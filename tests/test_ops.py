"""Every scalar op, one line each: value and gradient against finite differences,
against the other engine, and against PyTorch float64 where it is installed.

The same lambda runs on fastgrad Values, reference Values, floats (for finite
differences) and torch tensors, so a case is written once.
"""
import math

import pytest

import fastgrad
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


def test_every_op_has_a_case():
    # adding an op to the table without a line in CASES fails here
    seen = set()
    for fn, point in CASES.values():
        seen.add(fn(*map(fastgrad.Value, point)).op)
    assert set(_scalar.OP_NAMES) - {""} <= seen


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
