"""The checks every registry row written in Python gets (``fastgrad/ops/``).

Each family's test file (``tests/test_ops_<family>.py``) holds one table, ``CASES``:
``name: Case(function, shapes, domain, torch=...)``. ``function`` is written with
``fastgrad.numpy`` (``import fastgrad.numpy as np``); on plain arrays it must give numpy's
own result, on Tensors it records. Every case gets, from ``parametrize_cases``:

* the value on Tensors equals the value on plain arrays (numpy's), bit for bit;
* ``fastgrad.test_util.check_grads(modes=["fwd", "rev"], order=2)``: forward and reverse
  mode against central differences, and both again on the derivative functions;
* the gradient against PyTorch float64 (1e-10), where ``torch`` names PyTorch's version
  (``torch=None``: PyTorch has no such op);
* float32 in, float32 out.

Which front ends reach a row (numpy's function/ufunc on Tensors, ``fastgrad.numpy``,
Tensor methods) is checked by ``tests/test_registry.py`` from each row's ``fronts`` and
the first case whose ``rows`` names it.
"""
import dataclasses
import warnings
from typing import Any, Callable, Optional, Sequence

import numpy as onp
import pytest

from fastgrad import Tensor
from fastgrad.test_util import check_grads

POS = "positive"        # [0.5, 2): logs, roots, denominators
ANY = "any"             # [-2, 2), kept 0.1 away from 0 (kinks)
UNIT = "unit"           # (-0.9, 0.9): arcsin, arctanh
ABOVE1 = "above1"       # [1.2, 3): arccosh
COMPLEX = "complex"     # real and imaginary parts each in [-2, 2)


@dataclasses.dataclass
class Case:
    fn: Callable
    shapes: Sequence[tuple]
    domain: str = ANY
    torch: Optional[Callable] = None    # PyTorch's version (float64), if torch has it
    rows: Sequence[str] = ()            # the registry rows this case reaches (front-end test)
    order: int = 2
    modes: Sequence[str] = ("fwd", "rev")
    args: Any = None                    # fixed inputs instead of random ones (a list)
    call: Optional[Callable] = None     # how a row's front end f is called: call(f, *xs)
                                        # (default f(*xs)); a method front is f(t, ...)


def inputs(case, seed=0, dtype=onp.float64):
    if case.args is not None:
        return [onp.array(a, dtype=dtype) if isinstance(a, (list, onp.ndarray)) else a
                for a in case.args]
    rng = onp.random.default_rng(seed)
    out = []
    for shape in case.shapes:
        if case.domain == POS:
            a = rng.uniform(0.5, 2.0, shape)
        elif case.domain == UNIT:
            a = rng.uniform(-0.9, 0.9, shape)
        elif case.domain == ABOVE1:
            a = rng.uniform(1.2, 3.0, shape)
        elif case.domain == COMPLEX:
            a = rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape)
        else:
            a = rng.uniform(-2.0, 2.0, shape)
            a = onp.where(onp.abs(a) < 0.1, 0.3, a)
        out.append(a.astype(dtype) if case.domain != COMPLEX else a)
    return out


def check_value(case):
    xs = inputs(case)
    expected = case.fn(*xs)
    got = case.fn(*[Tensor(x, requires_grad=True) if isinstance(x, onp.ndarray) else x
                    for x in xs])
    assert isinstance(got, Tensor), f"expected a Tensor, got {type(got).__name__}"
    onp.testing.assert_array_equal(got.data, expected)


def check_derivatives(case):
    xs = inputs(case)
    onp.random.seed(0)
    argnum = tuple(i for i, x in enumerate(xs) if isinstance(x, onp.ndarray))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # linear ops: constant derivatives
        check_grads(case.fn, argnum, modes=list(case.modes), order=case.order)(*xs)


def check_torch(case):
    if case.torch is None:
        pytest.skip("PyTorch has no such op")
    torch = pytest.importorskip("torch")
    xs = inputs(case)
    ts = [Tensor(x, requires_grad=True) for x in xs]
    out = case.fn(*ts)
    w = onp.random.default_rng(1).uniform(-1, 1, out.shape)
    (out * w).sum().backward()
    tt = [torch.tensor(x, requires_grad=True) for x in xs]
    tout = case.torch(*tt)
    (tout * torch.tensor(w)).sum().backward()
    onp.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    for t, ref in zip(ts, tt):
        # a complex input: PyTorch's gradient is the conjugate of autograd's
        # (dL/dx + i dL/dy against autograd's dL/dx - i dL/dy)
        expected = ref.grad.numpy()
        onp.testing.assert_allclose(t.grad, onp.conj(expected) if onp.iscomplexobj(t.grad)
                                    else expected, rtol=1e-10, atol=1e-12)


def check_float32(case):
    xs = inputs(case, dtype=onp.float32)
    ts = [Tensor(x, requires_grad=True) for x in xs]
    out = case.fn(*ts)
    assert out.dtype == onp.float32, out.dtype
    out.sum().backward()
    assert all(t.grad.dtype == onp.float32 for t in ts)


def check_complex64(case):
    """complex64 in: the result complex64 (float32 where it is real), and the gradients
    complex64 (the COMPLEX domain's counterpart of check_float32)."""
    xs = [x.astype(onp.complex64) for x in inputs(case)]
    ts = [Tensor(x, requires_grad=True) for x in xs]
    out = case.fn(*ts)
    assert out.dtype in (onp.complex64, onp.float32), out.dtype
    (onp.real(out) if out.dtype == onp.complex64 else out).sum().backward()
    assert all(t.grad.dtype == onp.complex64 for t in ts), [t.grad.dtype for t in ts]


CHECKS = {"value": check_value, "derivatives": check_derivatives, "torch": check_torch,
          "float32": check_float32, "complex64": check_complex64}


def parametrize_cases(cases, checks=("value", "derivatives", "torch", "float32")):
    """A test function running ``checks`` on every case of a family's table."""
    @pytest.mark.parametrize("check", checks)
    @pytest.mark.parametrize("name", sorted(cases))
    def test_case(name, check):
        case = cases[name]
        if check == "float32" and case.domain == COMPLEX:
            pytest.skip("complex input")
        if check == "complex64" and case.domain != COMPLEX:
            pytest.skip("real input (check_float32)")
        CHECKS[check](case)
    return test_case
