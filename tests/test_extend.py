"""fastgrad.extend: a primitive defined here works in every mode and to every order."""
import math

import numpy as onp
import pytest

import fastgrad as fg
import fastgrad.numpy as np
from fastgrad import Tensor
from fastgrad.core import make_jvp, make_vjp
from fastgrad.extend import (def_linear, defjvp, defjvp_argnum, defvjp, defvjp_argnum,
                             primitive)

from test_core import check, deriv, grad


@primitive
def logsumexp(x, axis=None):
    m = onp.max(x, axis=axis, keepdims=True)
    return onp.squeeze(m, axis) + onp.log(onp.sum(onp.exp(x - m), axis=axis))


def _expand(v, x, axis):
    return v if axis is None else np.expand_dims(v, axis)


defvjp(logsumexp, lambda ans, x, axis=None:
       lambda g: _expand(g, x, axis) * np.exp(x - _expand(ans, x, axis)))
defjvp(logsumexp, lambda t, ans, x, axis=None:
       np.sum(t * np.exp(x - _expand(ans, x, axis)), axis=axis))


@primitive
def scale_add(x, y, c):
    return c * x + y


defvjp_argnum(scale_add, lambda argnum, ans, args, kwargs:
              (lambda g: g * args[2]) if argnum == 0 else
              (lambda g: g) if argnum == 1 else (lambda g: np.sum(g * args[0])))
defjvp_argnum(scale_add, lambda argnum, t, ans, args, kwargs:
              t * args[2] if argnum == 0 else t if argnum == 1 else t * args[0])


@primitive
def bilinear(a, b):
    return a @ b


defvjp(bilinear, lambda ans, a, b: lambda g: g @ b.T, lambda ans, a, b: lambda g: a.T @ g)
def_linear(bilinear)


def test_raw_values_in_raw_values_out():
    x = onp.array([1.0, 2.0, 3.0])
    out = logsumexp(x)
    assert isinstance(out, onp.floating) and out == pytest.approx(
        math.log(math.e + math.e ** 2 + math.e ** 3), rel=1e-15)
    assert isinstance(logsumexp(Tensor(x)), Tensor)
    assert logsumexp.__name__ == "logsumexp" and logsumexp.fun(x) == out


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_custom_primitive_in_both_modes_to_second_order(axis):
    x = onp.random.default_rng(0).standard_normal((3, 4))
    check(lambda xs: logsumexp(xs[0], axis=axis), [x])


def test_argnum_forms_and_def_linear():
    rng = onp.random.default_rng(1)
    x, y, c = rng.standard_normal(3), rng.standard_normal(3), onp.array(0.7)
    check(lambda xs: scale_add(*xs), [x, y, c])
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    check(lambda xs: bilinear(xs[0], xs[1]) * bilinear(xs[0], xs[1]), [a, b])


def test_custom_primitive_in_nested_and_eager_use():
    softplus_ish = lambda x: logsumexp(np.stack([x, 0.0 * x]), axis=0)     # noqa: E731
    s = 1 / (1 + math.exp(-0.3))                       # softplus' = sigmoid
    assert grad(softplus_ish)(0.3) == pytest.approx(s, rel=1e-14)
    assert deriv(grad(softplus_ish))(0.3) == pytest.approx(s * (1 - s), rel=1e-13)
    w = Tensor([0.1, 0.2], requires_grad=True)
    logsumexp(w).backward(create_graph=True)
    g = w.grad
    w.grad = None
    (g * g).sum().backward()
    p = onp.exp(w.data) / onp.exp(w.data).sum()
    # d/dw sum(p^2) = 2 (p * p - p * sum(p^2))
    onp.testing.assert_allclose(w.grad, 2 * (p * p - p * onp.sum(p * p)), rtol=1e-13)


def test_wrong_shapes_and_missing_rules_are_named():
    @primitive
    def bad(x):
        return x * 2.0

    defvjp(bad, lambda ans, x: lambda g: onp.ones(5))
    defjvp(bad, lambda t, ans, x: onp.ones(7))
    with pytest.raises(ValueError, match=r"primitive bad: the VJP for argument 0 returned "
                                         r"shape \(5,\), but the argument has shape \(3,\)"):
        make_vjp(lambda x: bad(x), onp.ones(3))[0](onp.ones(3))
    with pytest.raises(ValueError, match=r"primitive bad: the JVP for argument 0 returned "
                                         r"shape \(7,\), but the output has shape \(3,\)"):
        make_jvp(lambda x: bad(x), onp.ones(3))(onp.ones(3))

    @primitive
    def novjp(x, y):
        return x * y

    defvjp(novjp, lambda ans, x, y: lambda g: g * y)
    with pytest.raises(NotImplementedError, match="primitive novjp: the VJP for argument 1 "
                                                  "is not defined"):
        make_vjp(lambda y: novjp(2.0, y), 1.0)[0](1.0)
    with pytest.raises(NotImplementedError, match="the JVP of primitive novjp is not "
                                                  "defined"):
        make_jvp(lambda x: novjp(x, 2.0), 1.0)(1.0)
    with pytest.raises(TypeError, match="'sum' is not a primitive"):
        defvjp(onp.sum, lambda ans, x: lambda g: g)

    @primitive
    def returns_list(x):
        return [x]
    with pytest.raises(TypeError, match="primitive returns_list: the function must return "
                                        "an array or a number, it returned list"):
        returns_list(Tensor(1.0, requires_grad=True))
