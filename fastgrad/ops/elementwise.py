"""Elementwise rows: numpy's ufuncs with their derivatives, and the functions without one.

A unary row is one line: ``_unary(name, df)`` where ``df(ans, x)`` is the derivative
(``ans`` is the result): its VJP is ``g * df`` and its JVP ``t * df``. A binary row gives
the two partial derivatives.
"""
import numpy as np

from .._tensor import constant_function, define, expose

__all__ = []


def _unary(name, df, methods=()):
    define(name, getattr(np, name),
           [lambda g, ans, x: g * df(ans, x)], [lambda t, ans, x: t * df(ans, x)],
           ufuncs=(name,), methods=methods)


def _binary(name, dfdx, dfdy):
    define(name, getattr(np, name),
           [lambda g, ans, x, y: g * dfdx(ans, x, y), lambda g, ans, x, y: g * dfdy(ans, x, y)],
           [lambda t, ans, x, y: t * dfdx(ans, x, y), lambda t, ans, x, y: t * dfdy(ans, x, y)],
           ufuncs=(name,))


# ---- unary: name, derivative d(ans)/dx ------------------------------------------------
_unary("sinh", lambda ans, x: np.cosh(x))
_unary("cosh", lambda ans, x: np.sinh(x))
_unary("tan", lambda ans, x: 1 + ans ** 2)
_unary("arctan", lambda ans, x: 1 / (1 + x ** 2))
_unary("log1p", lambda ans, x: 1 / (1 + x))
_unary("expm1", lambda ans, x: ans + 1)

# ---- binary: name, d/dx, d/dy ----------------------------------------------------------
_binary("arctan2", lambda ans, x, y: y / (x ** 2 + y ** 2),
        lambda ans, x, y: -x / (x ** 2 + y ** 2))

# ---- not differentiable: the values in, a constant out ---------------------------------
for _name in ("argmax", "argmin", "argsort", "allclose", "isclose", "array_equal",
              "nonzero", "count_nonzero", "searchsorted", "iscomplexobj", "isrealobj"):
    expose(constant_function(getattr(np, _name)), functions=(_name,))
del _name
