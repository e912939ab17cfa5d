"""fastgrad.test_util: check_grads passes on right derivatives and fails, clearly, on
wrong ones (custom primitives with deliberately wrong rules)."""
import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad.test_util import check_equivalent, check_grads, combo_check, scalar_close


@pytest.fixture(autouse=True)
def _seed():
    onp.random.seed(0)


@pytest.mark.parametrize("f,x", [
    (lambda x: np.sum(np.tanh(x) ** 2), onp.array([0.3, -1.2, 2.0])),
    (lambda x: np.sin(x) * x ** 3, 0.7),
    (lambda x: np.exp(x) @ onp.ones((3, 2)), onp.array([0.1, 0.2, 0.3])),
    (lambda d: d["a"] * np.sum(d["b"][0] ** 2), {"a": 1.5, "b": [onp.ones(2), 2.0]}),
], ids=["tanh", "scalar", "matrix", "structure"])
def test_right_derivatives_pass_in_both_modes_at_second_order(f, x):
    check_grads(f)(x)
    check_grads(f, modes=["rev"], order=3)(x)


def test_argnum_and_keyword_arguments_reach_the_function():
    f = lambda a, b, scale=1.0: np.sum(a * np.sin(b)) * scale     # noqa: E731
    a, b = onp.array([0.5, 1.0]), onp.array([0.2, -0.4])
    check_grads(f, argnum=(0, 1))(a, b, scale=3.0)
    check_grads(f, 1, ["rev"], 1)(a, b)


def _custom(vjp_scale=2.0, jvp_scale=2.0, name="foo"):
    from fastgrad.extend import defjvp, defvjp, primitive

    def foo(x):
        return x * 2.0
    foo.__name__ = name
    foo = primitive(foo)
    defvjp(foo, lambda ans, x: lambda g: g * vjp_scale)
    defjvp(foo, lambda g, ans, x: g * jvp_scale)
    return foo


def test_a_wrong_custom_vjp_fails_the_reverse_check():
    check_grads(_custom(), modes=["rev", "fwd"], order=1)(1.0)      # the right rules pass
    with pytest.raises(AssertionError, match=r"Derivative \(VJP\) check of foo failed with "
                       r"arg 1.0:\n\s*analytic <v, vjp\(u\)>: \S+\n\s*numeric  <u, J v>: +\S+ "
                       r"\(central differences, eps=1e-06\)"):
        check_grads(_custom(vjp_scale=2.001), modes=["rev"])(1.0)


def test_a_wrong_custom_jvp_fails_the_forward_check():
    with pytest.raises(AssertionError, match=r"Derivative \(JVP\) check of foo failed with "
                       r"arg 1.0 \(analytic first, numeric second\): Value mismatch"):
        check_grads(_custom(jvp_scale=1.999), modes=["fwd"])(1.0)


def test_a_wrong_second_derivative_fails_at_order_two_only():
    from fastgrad.extend import defvjp, primitive

    @primitive
    def bar(x):
        return x
    defvjp(bar, lambda ans, x: lambda g: g * 1.001)     # wrong: bar is the identity

    @primitive
    def foo(x):
        return x * 2.0
    defvjp(foo, lambda ans, x: lambda g: bar(g) * 2)   # right value, wrong derivative

    check_grads(foo, modes=["rev"], order=1)(1.0)
    with pytest.raises(AssertionError, match=r"\(VJP\) check of vjp_foo failed"):
        check_grads(foo, modes=["rev"], order=2)(1.0)


@pytest.mark.parametrize("kwargs,match", [
    ({"modes": "rev"}, r"modes must be a list of 'fwd' and/or 'rev', not 'rev'"),
    ({"modes": ["reverse"]}, r"not \['reverse'\]"),
    ({"modes": []}, r"not \[\]"),
    ({"order": 0}, r"order must be an int >= 1, not 0"),
    ({"order": 1.5}, r"not 1.5"),
])
def test_bad_modes_and_orders_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_grads(np.sin, **kwargs)(0.5)


def test_check_grads_refuses_arguments_that_are_not_numbers():
    with pytest.raises(TypeError, match="str"):
        check_grads(lambda s: 1.0, modes=["rev"], order=1)("abc")
    with pytest.raises(TypeError, match="a NoneType is not a vector"):
        check_equivalent(None, None)


def test_combo_check_runs_every_combination():
    seen = []

    def f(x, y, k=1.0):
        seen.append((round(float(onp.asarray(getattr(x, "data", x))), 3), k))
        return x * y * k
    combo_check(f, [0, 1], modes=["rev"], order=1)([1.0, 2.0], [3.0], k=[1.0, -1.0])
    assert {s for s in seen} == {(1.0, 1.0), (2.0, 1.0), (1.0, -1.0), (2.0, -1.0)}


def test_check_equivalent_and_scalar_close():
    check_equivalent([1.0, onp.ones(2)], [1.0, onp.ones(2)])
    with pytest.raises(AssertionError, match="VSpace mismatch"):
        check_equivalent(onp.ones(2), onp.ones(3))
    with pytest.raises(AssertionError, match="Value mismatch"):
        check_equivalent(onp.ones(2), onp.ones(2) * 1.01)
    assert scalar_close(1.0, 1.0 + 1e-9) and not scalar_close(1.0, 1.1)
    assert scalar_close(1e-9, -1e-9)                    # absolute tolerance near zero


def test_quick_grad_check_is_a_deprecated_check_grads():
    from fastgrad.util import quick_grad_check
    with pytest.warns(DeprecationWarning, match="use fastgrad.test_util.check_grads"):
        quick_grad_check(lambda x, y: x ** 2 + y, 1.0, (2.0,))
    with pytest.warns(DeprecationWarning), pytest.raises(AssertionError, match=r"\(VJP\)"):
        quick_grad_check(_custom(vjp_scale=3.0), 1.0)
