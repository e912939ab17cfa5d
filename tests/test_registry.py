"""The registry is the one list of ops: every row is reachable from every front end it
names (Tensor methods, numpy ufuncs, module functions, ``fastgrad.numpy``, numpy's
``__array_function__``), and each front end reaches the row it names.

Adding a compiled op: its row in ``src_cython/fastgrad/_tensor.pyx`` and one entry in
``CALLS`` below (input shapes and how its functions are called); its gradient cases go in
``tests/test_tensor_ops.py`` ``CASES``, which ``tests/test_core.py`` runs to second order
in both modes. Adding an op written in Python: its row in ``fastgrad/ops/<family>.py``
and one case in ``tests/test_ops_<family>.py`` ``CASES`` whose ``rows`` names it (that
case's inputs drive the front-end checks here). A row without an entry, or a front end a
row names that does not exist or reaches another row, fails this file.
"""
import glob
import importlib
import os

import numpy as onp
import pytest

import fastgrad
import fastgrad.numpy as fnp
from fastgrad import Tensor, _tensor

# row name -> (input shapes, keyword arguments of its function-style calls)
CALLS = {
    "add": ([(2, 3), (3,)], {}), "subtract": ([(2, 3), (3,)], {}),
    "multiply": ([(2, 3), (3,)], {}), "divide": ([(2, 3), (3,)], {}),
    "power": ([(2, 3), (3,)], {}), "maximum": ([(2, 3), (3,)], {}),
    "minimum": ([(2, 3), (3,)], {}), "negative": ([(2, 3)], {}), "tanh": ([(2, 3)], {}),
    "relu": ([(2, 3)], {}), "sigmoid": ([(2, 3)], {}), "exp": ([(2, 3)], {}),
    "log": ([(2, 3)], {}), "sqrt": ([(2, 3)], {}), "absolute": ([(2, 3)], {}),
    "sin": ([(2, 3)], {}), "cos": ([(2, 3)], {}), "matmul": ([(2, 3), (3, 4)], {}),
    "linear": ([(2, 3), (3, 4), (4,)], {}), "sum": ([(2, 3)], {"axis": 0}),
    "mean": ([(2, 3)], {"axis": 1}), "max": ([(2, 3)], {}), "min": ([(2, 3)], {}),
    "reshape": ([(2, 3)], {}), "transpose": ([(2, 3)], {}), "broadcast_to": ([(3,)], {}),
    "concatenate": ([(2, 3), (2, 3)], {}), "stack": ([(2, 3), (2, 3)], {}),
    "getitem": ([(2, 3)], {}), "where": ([(2, 3), (3,)], {}), "clip": ([(2, 3)], {}),
    "softmax": ([(2, 3)], {}), "log_softmax": ([(2, 3)], {}),
    "mse_loss": ([(2, 3), (2, 3)], {}), "cross_entropy": ([(2, 3), (2, 3)], {}),
}
# front-end names whose call needs more than the operands (and the row's keywords)
EXTRA = {
    "reshape": lambda f, a: f(a, (3, 2)), "squeeze": lambda f, a: f(a[None]),
    "expand_dims": lambda f, a: f(a, 0), "swapaxes": lambda f, a: f(a, 0, 1),
    "broadcast_to": lambda f, a: f(a, (2, 3)), "clip": lambda f, a: f(a, 0.8, 1.2),
    "concatenate": lambda f, a, b: f([a, b], axis=1), "stack": lambda f, a, b: f([a, b]),
    "where": lambda f, a, b: f(onp.array([True, False, True]), a, b),
}
METHOD_EXTRA = {
    "reshape": lambda t: t.reshape(3, 2), "squeeze": lambda t: t.reshape(1, 2, 3).squeeze(),
    "expand_dims": lambda t: t.expand_dims(0), "swapaxes": lambda t: t.swapaxes(0, 1),
    "T": lambda t: t.T, "__getitem__": lambda t: t[1:], "clip": lambda t: t.clip(0.8, 1.2),
}
INTERNAL = {"untake"}           # getitem's transpose: only getitem's rules reach it


# the rows written in Python: row name -> the first family case naming it
PY_CASES = {}
for _path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "test_ops_*.py"))):
    for _case in importlib.import_module(os.path.basename(_path)[:-3]).CASES.values():
        for _row in _case.rows:
            PY_CASES.setdefault(_row, _case)


def _numpy(dotted, root=onp):
    for part in dotted.split("."):
        root = getattr(root, part, None)
    return root


def _tensors(name):
    rng = onp.random.default_rng(0)
    return [Tensor(rng.uniform(0.5, 1.5, s), requires_grad=True) for s in CALLS[name][0]]


def _call(f, front, name, ts):
    if front in EXTRA:
        return EXTRA[front](f, *ts)
    return f(*ts, **CALLS[name][1])


def _rows():
    return [p for p in _tensor.PRIMITIVES if p.name not in INTERNAL and not p.python]


def _py_rows():
    return [p for p in _tensor.PRIMITIVES if p.python]


def _assert_reaches(out, p, where):
    assert isinstance(out, Tensor) and out.op == p.op, (
        f"{where} should record row {p.name!r} (op {p.op!r}), got "
        f"{getattr(out, 'op', type(out).__name__)!r}")


def test_every_row_has_an_entry_and_rules():
    names = {p.name for p in _tensor.PRIMITIVES if not p.python}
    assert set(CALLS) | INTERNAL == names, (names - set(CALLS) - INTERNAL,
                                             set(CALLS) - names)
    for p in _tensor.PRIMITIVES:
        assert p is _tensor.REGISTRY[p.name]
        n = 3 if p.nargs < 0 else p.nargs
        assert all(p.has_vjp[:n]) and all(p.has_jvp[:n]), p.name
        assert p.op in _tensor.OP_NAMES and not p.user
    for p in _py_rows():
        assert p.name in PY_CASES, (f"row {p.name!r} (fastgrad/ops) has no case in "
                                    "tests/test_ops_*.py naming it in its rows")
        assert any(p.fronts.values()) or p.name in INTERNAL, f"{p.name} has no front end"


@pytest.mark.parametrize("p", _rows(), ids=lambda p: p.name)
def test_functions_reach_their_row(p):
    for front in p.fronts["function"]:
        ours = getattr(_tensor, front, None)
        assert callable(ours), f"fastgrad._tensor.{front} is missing"
        _assert_reaches(_call(ours, front, p.name, _tensors(p.name)), p,
                        f"fastgrad._tensor.{front}")
        if hasattr(onp, front):
            ts = _tensors(p.name)
            _assert_reaches(_call(getattr(fnp, front), front, p.name, ts), p,
                            f"fastgrad.numpy.{front}")
            assert _tensor.FUNCTIONS[getattr(onp, front)] is ours
            _assert_reaches(_call(getattr(onp, front), front, p.name, ts), p,
                            f"numpy.{front} on Tensors")


@pytest.mark.parametrize("p", _rows(), ids=lambda p: p.name)
def test_methods_reach_their_row(p):
    for method in p.fronts["method"]:
        assert hasattr(Tensor, method), f"Tensor.{method} is missing"
        ts = _tensors(p.name)
        if method in METHOD_EXTRA:
            out = METHOD_EXTRA[method](ts[0])
        elif method.startswith("__r") and len(ts) == 2:      # the reflected operators
            out = getattr(ts[1], method)(ts[0].data)
        elif len(ts) == 2:
            out = getattr(ts[0], method)(ts[1])
        else:
            out = getattr(ts[0], method)(**CALLS[p.name][1])
        _assert_reaches(out, p, f"Tensor.{method}")


@pytest.mark.parametrize("p", _rows(), ids=lambda p: p.name)
def test_ufuncs_reach_their_row(p):
    for name in p.fronts["ufunc"]:
        ufunc = getattr(onp, name)
        assert ufunc in _tensor.UFUNCS, f"numpy.{name} is not dispatched"
        _assert_reaches(ufunc(*_tensors(p.name)), p, f"numpy.{name} on Tensors")


def test_fastgrad_numpy_lists_every_differentiable_function():
    expected = {f for p in _tensor.PRIMITIVES for f in p.fronts["function"]
                if _numpy(f) is not None}
    expected |= {u for p in _py_rows() for u in p.fronts["ufunc"]}
    assert expected | {"dot", "square"} <= set(fnp.DIFFERENTIABLE)
    for name in fnp.DIFFERENTIABLE:
        assert _numpy(name, fnp) is not _numpy(name), name


@pytest.mark.parametrize("p", _py_rows(), ids=lambda p: p.name)
def test_python_rows_reach_from_every_front_end(p):
    from opcheck import inputs
    case = PY_CASES[p.name]
    call = case.call or (lambda f, *ts: f(*ts))
    assert any(p.fronts.values()), f"{p.name} has no front end"
    fronts = []
    for name in p.fronts["function"]:
        assert _numpy(name) is not None, f"numpy has no {name}"
        fronts += [(f"numpy.{name} on Tensors", _numpy(name)),
                   (f"fastgrad.numpy.{name}", _numpy(name, fnp))]
    for name in p.fronts["ufunc"]:
        assert _numpy(name) in _tensor.UFUNCS, f"numpy.{name} is not dispatched"
        fronts += [(f"numpy.{name} on Tensors", _numpy(name)),
                   (f"fastgrad.numpy.{name}", _numpy(name, fnp))]
    for name in p.fronts["method"]:
        fronts.append((f"Tensor.{name}",
                       lambda *a, _n=name, **k: (getattr(a[0], _n)(*a[1:], **k)
                                                 if callable(getattr(a[0], _n))
                                                 else getattr(a[0], _n))))
    for where, f in fronts:
        ts = [Tensor(x, requires_grad=True) if isinstance(x, onp.ndarray) else x
              for x in inputs(case)]
        out = call(f, *ts)
        found = set()
        stack = [out] if isinstance(out, Tensor) else list(out)
        while stack:                                 # the rows recorded on the way
            t = stack.pop()
            if isinstance(t, Tensor) and t.op:
                found.add(t.op)
                stack.extend(t.parents)
        assert p.op in found, f"{where} should record row {p.name!r}, got {sorted(found)}"
