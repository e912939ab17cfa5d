"""Elementwise rows: numpy's ufuncs with their derivatives, and the functions without one.

A unary row is one line: ``_unary(name, df)`` where ``df(ans, x)`` is the derivative
(``ans`` is the result): its VJP is ``g * df`` and its JVP ``t * df``. A binary row gives
the two partial derivatives. The derivatives follow HIPS autograd's
(``autograd/numpy/numpy_vjps.py``), except ``sinc``'s, which autograd's formula gives as
nan at 0 and imprecisely near it.

Constants in the rules are Python floats (``math.log(2)``, not ``np.log(2)``): a numpy
float64 scalar would promote float32 derivatives to float64.
"""
import math

import numpy as np

from .._tensor import constant_function, define, expose

__all__ = []


def _unary(name, df, aliases=(), function=False):
    # function=True: numpy's is a function (np.sinc), not a ufunc
    fronts = (name,) + tuple(aliases)
    define(name, getattr(np, name),
           [lambda g, ans, x: g * df(ans, x)], [lambda t, ans, x: t * df(ans, x)],
           ufuncs=() if function else fronts, functions=fronts if function else ())


def _binary(name, dfdx, dfdy, aliases=()):
    define(name, getattr(np, name),
           [lambda g, ans, x, y: g * dfdx(ans, x, y), lambda g, ans, x, y: g * dfdy(ans, x, y)],
           [lambda t, ans, x, y: t * dfdx(ans, x, y), lambda t, ans, x, y: t * dfdy(ans, x, y)],
           ufuncs=(name,) + tuple(aliases))


def _sinc_derivative(ans, x):
    # (cos(pi x) pi x - sin(pi x)) / (pi x**2), which cancels badly near 0 (and autograd's
    # gives nan at 0): for |x| < 0.01 its Taylor series to x**7 (relative error < 1e-13,
    # and its own derivatives right there too); the branch not taken reads x = 1, so its
    # derivatives stay finite under the mask
    small = np.abs(x) < 0.01
    xs = np.where(small, 1.0, x)
    px = math.pi * xs
    u = (math.pi * x) ** 2
    series = (math.pi ** 2) * x * (-1 / 3 + u * (1 / 30 + u * (-1 / 840 + u / 45360)))
    return np.where(small, series, (np.cos(px) * px - np.sin(px)) / (math.pi * xs ** 2))


def _balanced(x, y, ans):
    # fmax/fmin: the gradient goes to the operand chosen, half to each on a tie
    # (autograd's balanced_eq); a numpy bool mask keeps the cotangent's dtype
    return lambda g: np.where(x == y, 0.5 * g, g * (x == ans))


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# ---- unary: name, derivative d(ans)/dx ------------------------------------------------
_unary("sinh", lambda ans, x: np.cosh(x))
_unary("cosh", lambda ans, x: np.sinh(x))
_unary("tan", lambda ans, x: 1 + ans ** 2)
_unary("arctan", lambda ans, x: 1 / (1 + x ** 2))
_unary("log1p", lambda ans, x: 1 / (1 + x))
_unary("expm1", lambda ans, x: ans + 1)
_unary("log2", lambda ans, x: 1 / (x * _LN2))
_unary("log10", lambda ans, x: 1 / (x * _LN10))
_unary("exp2", lambda ans, x: ans * _LN2)
_unary("arcsin", lambda ans, x: 1 / np.sqrt(1 - x ** 2))
_unary("arccos", lambda ans, x: -1 / np.sqrt(1 - x ** 2))
_unary("arcsinh", lambda ans, x: 1 / np.sqrt(x ** 2 + 1))
_unary("arccosh", lambda ans, x: 1 / np.sqrt(x ** 2 - 1))
_unary("arctanh", lambda ans, x: 1 / (1 - x ** 2))
_unary("cbrt", lambda ans, x: 1 / (3 * ans ** 2))
_unary("reciprocal", lambda ans, x: -ans ** 2)
_unary("sinc", _sinc_derivative, function=True)
_unary("fabs", lambda ans, x: np.sign(x))           # 0 at 0, as autograd
_unary("rad2deg", lambda ans, x: 180.0 / math.pi, aliases=("degrees",))
_unary("deg2rad", lambda ans, x: math.pi / 180.0, aliases=("radians",))

# ---- binary: name, d/dx, d/dy ----------------------------------------------------------
_binary("arctan2", lambda ans, x, y: y / (x ** 2 + y ** 2),
        lambda ans, x, y: -x / (x ** 2 + y ** 2))
_binary("hypot", lambda ans, x, y: x / ans, lambda ans, x, y: y / ans)
_binary("logaddexp", lambda ans, x, y: np.exp(x - ans), lambda ans, x, y: np.exp(y - ans))
_binary("logaddexp2", lambda ans, x, y: 2.0 ** (x - ans),
        lambda ans, x, y: 2.0 ** (y - ans))
# x - y * floor(x / y) (np.mod is np.remainder, and the % operator); fmod truncates
_binary("remainder", lambda ans, x, y: 1.0, lambda ans, x, y: -np.floor(x / y),
        aliases=("mod",))
_binary("fmod", lambda ans, x, y: 1.0, lambda ans, x, y: -np.trunc(x / y))

for _name in ("fmax", "fmin"):
    define(_name, getattr(np, _name),
           [lambda g, ans, x, y: _balanced(x, y, ans)(g),
            lambda g, ans, x, y: _balanced(y, x, ans)(g)],
           [lambda t, ans, x, y: _balanced(x, y, ans)(t),
            lambda t, ans, x, y: _balanced(y, x, ans)(t)],
           ufuncs=(_name,))


# ---- constant where the input is finite: nan_to_num -----------------------------------
def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    # the front: numpy's signature; the row never writes into its input (copy=True)
    return _NAN_TO_NUM(x, nan=nan, posinf=posinf, neginf=neginf)


_NAN_TO_NUM = define(
    "nan_to_num",
    lambda x, nan=0.0, posinf=None, neginf=None: np.nan_to_num(
        x, copy=True, nan=nan, posinf=posinf, neginf=neginf),
    [lambda g, ans, x, **kw: np.where(np.isfinite(x), g, 0.0 * g)],
    [lambda t, ans, x, **kw: np.where(np.isfinite(x), t, 0.0 * t)],
    functions=("nan_to_num",), front=_nan_to_num)

# ---- not differentiable: the values in, a constant out ---------------------------------
# (sign floor ceil rint trunc and the comparisons are ufuncs numpy runs on the values:
# _OFF_TAPE_UFUNCS in _tensor.pyx)
for _name in ("argmax", "argmin", "argsort", "allclose", "isclose", "array_equal",
              "array_equiv", "nonzero", "flatnonzero", "argwhere", "argpartition",
              "count_nonzero", "searchsorted", "iscomplexobj", "isrealobj", "iscomplex",
              "isreal", "isneginf", "isposinf", "round", "around", "fix", "any", "all"):
    expose(constant_function(getattr(np, _name)), functions=(_name,),
           methods=(_name,) if _name in ("argmax", "argmin", "argsort", "nonzero", "round",
                                         "any", "all") else ())
expose(constant_function(np.floor_divide), ufuncs=("floor_divide",))
del _name
