"""The elementwise rows (``fastgrad/ops/elementwise.py``): one case each."""
import math

import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor
from fastgrad.test_util import check_grads
from opcheck import ABOVE1, ANY, POS, UNIT, Case, parametrize_cases


def _t(name):
    return lambda *a: getattr(__import__("torch"), name)(*a)


def _torch_logaddexp2(x, y):
    return __import__("torch").logaddexp2(x, y)


CASES = {
    "sinh": Case(lambda x: np.sinh(x), [(2, 3)], ANY, _t("sinh"), rows=["sinh"]),
    "cosh": Case(lambda x: np.cosh(x), [(2, 3)], ANY, _t("cosh"), rows=["cosh"]),
    "tan": Case(lambda x: np.tan(x), [(2, 3)], ANY, _t("tan"), rows=["tan"]),
    "arctan": Case(lambda x: np.arctan(x), [(2, 3)], ANY, _t("arctan"), rows=["arctan"]),
    "log1p": Case(lambda x: np.log1p(x), [(2, 3)], POS, _t("log1p"), rows=["log1p"]),
    "expm1": Case(lambda x: np.expm1(x), [(2, 3)], ANY, _t("expm1"), rows=["expm1"]),
    "arctan2": Case(lambda y, x: np.arctan2(y, x), [(2, 3), (3,)], ANY, _t("arctan2"),
                    rows=["arctan2"]),
    "log2": Case(lambda x: np.log2(x), [(2, 3)], POS, _t("log2"), rows=["log2"]),
    "log10": Case(lambda x: np.log10(x), [(2, 3)], POS, _t("log10"), rows=["log10"]),
    "exp2": Case(lambda x: np.exp2(x), [(2, 3)], ANY, _t("exp2"), rows=["exp2"]),
    "arcsin": Case(lambda x: np.arcsin(x), [(2, 3)], UNIT, _t("arcsin"), rows=["arcsin"]),
    "arccos": Case(lambda x: np.arccos(x), [(2, 3)], UNIT, _t("arccos"), rows=["arccos"]),
    "arcsinh": Case(lambda x: np.arcsinh(x), [(2, 3)], ANY, _t("arcsinh"),
                    rows=["arcsinh"]),
    "arccosh": Case(lambda x: np.arccosh(x), [(2, 3)], ABOVE1, _t("arccosh"),
                    rows=["arccosh"]),
    "arctanh": Case(lambda x: np.arctanh(x), [(2, 3)], UNIT, _t("arctanh"),
                    rows=["arctanh"]),
    "cbrt": Case(lambda x: np.cbrt(x), [(2, 3)], ANY, None, rows=["cbrt"]),
    "reciprocal": Case(lambda x: np.reciprocal(x), [(2, 3)], ANY, _t("reciprocal"),
                       rows=["reciprocal"]),
    "sinc": Case(lambda x: np.sinc(x), [(2, 3)], ANY, _t("sinc"), rows=["sinc"]),
    # 0, the Taylor series (|x| < 0.01) and the closed form
    "sinc_at_0": Case(lambda x: np.sinc(x), [],
                      args=[[0.0, 0.004, -0.0099, 0.0101, 0.5, -1.5]],
                      torch=_t("sinc")),
    "fabs": Case(lambda x: np.fabs(x), [(2, 3)], ANY, _t("abs"), rows=["fabs"]),
    "rad2deg": Case(lambda x: np.rad2deg(x), [(2, 3)], ANY, _t("rad2deg"),
                    rows=["rad2deg"]),
    "degrees": Case(lambda x: np.degrees(x), [(2, 3)], ANY, _t("rad2deg")),
    "deg2rad": Case(lambda x: np.deg2rad(x), [(2, 3)], ANY, _t("deg2rad"),
                    rows=["deg2rad"]),
    "radians": Case(lambda x: np.radians(x), [(2, 3)], ANY, _t("deg2rad")),
    "hypot": Case(lambda x, y: np.hypot(x, y), [(2, 3), (3,)], ANY, _t("hypot"),
                  rows=["hypot"]),
    "logaddexp": Case(lambda x, y: np.logaddexp(x, y), [(4, 1, 3), (2, 3)], ANY,
                      _t("logaddexp"), rows=["logaddexp"]),
    "logaddexp2": Case(lambda x, y: np.logaddexp2(x, y), [(2, 3), (3,)], ANY,
                       _torch_logaddexp2, rows=["logaddexp2"]),
    "remainder": Case(lambda x, y: np.remainder(x, y), [(2, 3), (3,)], POS,
                      _t("remainder"), rows=["remainder"]),
    "mod": Case(lambda x, y: np.mod(x, y), [(2, 3), (2, 1)], POS, _t("remainder")),
    "percent": Case(lambda x, y: x % y, [(2, 3), (3,)], POS, lambda x, y: x % y),
    # (torch has no derivative of number % tensor: its definition instead)
    "rpercent": Case(lambda x: 3.0 % x, [(2, 3)], POS,
                     lambda x: 3.0 - x * __import__("torch").floor(3.0 / x)),
    "fmod": Case(lambda x, y: np.fmod(x, y), [(2, 3), (3,)], ANY, _t("fmod"),
                 rows=["fmod"]),
    "fmax": Case(lambda x, y: np.fmax(x, y), [(2, 3), (3,)], ANY, _t("fmax"),
                 rows=["fmax"]),
    "fmin": Case(lambda x, y: np.fmin(x, y), [(2, 3), (2, 1)], ANY, _t("fmin"),
                 rows=["fmin"]),
    "nan_to_num": Case(lambda x: np.nan_to_num(x), [(2, 3)], ANY, _t("nan_to_num"),
                       rows=["nan_to_num"]),
}

test_elementwise = parametrize_cases(CASES)


def test_functions_without_a_derivative_return_constants():
    t = Tensor(onp.array([[0.3, 2.0], [1.5, -1.0]]), requires_grad=True)
    assert onp.argmax(t) == 1 and type(onp.argmax(t)) is not Tensor
    assert np.allclose(t, t.data) is True
    onp.testing.assert_array_equal(np.argsort(t, axis=1), onp.argsort(t.data, axis=1))
    for f in (np.floor, np.ceil, np.rint, np.trunc, np.sign, np.round, np.around, np.fix,
              onp.floor, onp.round, onp.sign):
        out = f(t)
        assert type(out) is onp.ndarray
        onp.testing.assert_array_equal(out, getattr(onp, f.__name__)(t.data))
    assert np.any(t > 1.9) and not np.all(t > 0) and t.any() and not (t > 0).all()
    assert t.argmax() == 1 and t.argmin(axis=1).tolist() == [0, 1]
    onp.testing.assert_array_equal(t.round(1), onp.round(t.data, 1))


def test_constants_give_zero_gradient_like_autograd():
    from fastgrad import grad
    g = grad(lambda x: np.sum(x * np.floor(x) + np.sign(x) + np.round(x)))(
        onp.array([0.3, 2.5, -1.2]))
    onp.testing.assert_array_equal(g, onp.floor([0.3, 2.5, -1.2]))


def test_fmax_ties_share_and_nans_follow_numpy():
    x = Tensor(onp.array([1.0, 2.0, onp.nan]), requires_grad=True)
    y = Tensor(onp.array([1.0, 3.0, 0.5]), requires_grad=True)
    out = np.fmax(x, y)
    onp.testing.assert_array_equal(out.data, [1.0, 3.0, 0.5])
    out.sum().backward()
    onp.testing.assert_array_equal(x.grad, [0.5, 0.0, 0.0])
    onp.testing.assert_array_equal(y.grad, [0.5, 1.0, 1.0])


def test_sinc_derivatives_at_and_near_zero():
    from fastgrad import grad
    d1 = grad(np.sinc)
    d2 = grad(d1)
    d3 = grad(d2)
    d4 = grad(d3)
    assert d1(0.0) == 0.0
    assert abs(d2(0.0) - (-math.pi ** 2 / 3)) < 1e-14
    assert d3(0.0) == 0.0
    assert abs(d4(0.0) - math.pi ** 4 / 5) < 1e-12
    # the series and the closed form agree on either side of |x| = 0.01
    for x in (0.0099999, 0.0100001, -0.0100001):
        px = math.pi * x
        exact = (math.cos(px) * px - math.sin(px)) / (math.pi * x ** 2)
        assert abs(d1(x) - exact) < 1e-12 * abs(exact)


def test_nan_to_num_passes_the_gradient_where_finite_only():
    x = Tensor(onp.array([1.0, onp.nan, onp.inf, -onp.inf]), requires_grad=True)
    out = np.nan_to_num(x, nan=-1.0, posinf=9.0)
    onp.testing.assert_array_equal(out.data, onp.nan_to_num(x.data, nan=-1.0, posinf=9.0))
    out.sum().backward()
    onp.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0, 0.0])
    assert onp.isnan(x.data[1])                  # the input was not changed in place


def test_percent_operator_and_mod_of_negative_operands_follow_numpy():
    x = onp.array([-3.5, 2.25, 7.0])
    y = onp.array([2.0, -1.5, 3.0])
    out = Tensor(x, requires_grad=True) % y
    onp.testing.assert_array_equal(out.data, x % y)
    check_grads(lambda a, b: a % b, (0, 1), order=2)(x, y)
    check_grads(lambda a, b: np.fmod(a, b), (0, 1), order=2)(x, y)


def test_log_outside_its_domain_is_numpys_nan_with_a_warning():
    x = Tensor(onp.array([-1.0, 2.0]), requires_grad=True)
    with pytest.warns(RuntimeWarning):
        out = np.log2(x)
    assert onp.isnan(out.data[0]) and out.data[1] == 1.0


def test_elementwise_float32_derivative_constants_keep_float32():
    x = Tensor(onp.array([1.5, 2.0], dtype=onp.float32), requires_grad=True)
    (np.log2(x) + np.exp2(x) + np.deg2rad(x) + np.log10(x)).sum().backward()
    assert x.grad.dtype == onp.float32
