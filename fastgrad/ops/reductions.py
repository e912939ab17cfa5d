"""Reductions and scans: ``prod``, ``cumsum``, ``var``, ``std``, ``trace``; Tensor methods
``astype``, ``dot``, ``ravel``, ``flatten``.

Each row's forward is numpy's own function (the values are numpy's, bit for bit); the
rules follow HIPS autograd (``autograd/numpy/numpy_vjps.py`` / ``numpy_jvps.py``), except
``prod``, whose rule is exact where the input has zeros (autograd's ``ans / x`` gives nan
there; see ``_prod_partials``). Parameters (``axis``, ``ddof``, ``keepdims``, ...) reach
the rows as keyword arguments, so they are never differentiated; the front functions
take numpy's signatures and refuse what the rows do not do (``out=``, ``dtype=``,
``where=``) with ``TypeError``.

numpy differentiates no ``cumprod``, ``ptp`` or ``average`` in autograd: they stay
unsupported on Tensors (``TypeError`` naming them).
"""
import numpy as np

from .. import _tensor
from .._tensor import define, expose

__all__ = []


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    out = []
    for a in (axis if isinstance(axis, tuple) else (axis,)):
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(out)


def _kept(g, shape, axis, keepdims):
    """A reduction's result (or cotangent) reshaped so it broadcasts against its input."""
    if keepdims:
        return g
    axes = _axes(axis, len(shape))
    return np.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _count(shape, axis):
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    return n


def _no(name, **kwargs):
    bad = sorted(k for k, v in kwargs.items() if v is not None)
    if bad:
        raise TypeError(f"{name}: arguments {bad} are not supported on Tensors")


# ---- prod ---------------------------------------------------------------------------
def _prod_partials(ans, x, axis, keepdims):
    """d prod / d x_i, the product of the others, exact where the input has zeros.

    Per reduced slice: no zero, ans / x. Otherwise P (the product of the nonzeros) times
    the product of the zeros other than x_i, written with the zeros themselves (as
    values 0, but differentiable): one zero z, P at z and z * P / x_i elsewhere; two, a
    and b, b * P at a (and a * P at b) and a * b * P / x_i elsewhere. So the derivatives
    are exact to every order where a slice holds at most two zeros, and to the second
    order always (with three or more, every first and second derivative is 0)."""
    zero = x == 0
    if not np.any(zero):
        return _kept(ans, np.shape(x), axis, keepdims) / x
    nz = np.sum(zero, axis=axis, keepdims=True)
    xs = np.where(zero, 1.0, x)
    p = np.prod(xs, axis=axis, keepdims=True)
    zx = np.where(zero, x, 0.0)
    s = np.sum(zx, axis=axis, keepdims=True)                  # a (+ b)
    ab = (s ** 2 - np.sum(zx ** 2, axis=axis, keepdims=True)) / 2
    all_zeros = np.where(nz == 0, 1.0, np.where(nz == 1, s, ab))
    other_zeros = np.where(nz == 1, 1.0, s - x)               # at a zero x_i
    return np.where(nz >= 3, 0.0, np.where(zero, other_zeros * p, all_zeros * p / xs))


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no("prod", dtype=dtype, out=out, initial=initial, where=where)
    return _PROD(a, axis=axis, keepdims=bool(keepdims))


_PROD = define(
    "prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    [lambda g, ans, x, axis=None, keepdims=False:
        _kept(g, np.shape(x), axis, keepdims) * _prod_partials(ans, x, axis, keepdims)],
    [lambda t, ans, x, axis=None, keepdims=False:
        np.sum(t * _prod_partials(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)],
    functions=("prod",), methods=("prod",), front=_prod)


# ---- cumsum: the VJP sums from the end ------------------------------------------------
def _reverse_cumsum(g, axis, shape):
    if axis is None:
        flat = np.reshape(g, (-1,))
        return np.reshape(np.cumsum(flat[::-1])[::-1], shape)
    ax = _axes(axis, len(shape))[0]
    rev = (slice(None),) * ax + (slice(None, None, -1),)
    return np.cumsum(g[rev], axis=ax)[rev]


def _cumsum(a, axis=None, dtype=None, out=None):
    _no("cumsum", dtype=dtype, out=out)
    return _CUMSUM(a, axis=axis)


_CUMSUM = define(
    "cumsum", lambda x, axis=None: np.cumsum(x, axis=axis),
    [lambda g, ans, x, axis=None: _reverse_cumsum(g, axis, np.shape(x))],
    [lambda t, ans, x, axis=None: np.cumsum(t, axis=axis)],
    functions=("cumsum",), methods=("cumsum",), front=_cumsum)


# ---- var and std (ddof, axis, keepdims): autograd's rules ----------------------------
def _centred(x, axis):
    # x - mean, conjugated for complex x (autograd's rules; real x skips np.conj)
    d = x - np.mean(x, axis=axis, keepdims=True)
    return np.conj(d) if np.iscomplexobj(x) else d


def _real(z, x):
    return np.real(z) if np.iscomplexobj(x) else z


def _var_vjp(g, ans, x, axis=None, ddof=0, keepdims=False):
    shape = np.shape(x)
    return 2.0 * _kept(g, shape, axis, keepdims) * _centred(x, axis) / (
        _count(shape, axis) - ddof)


def _var_jvp(t, ans, x, axis=None, ddof=0, keepdims=False):
    return 2.0 * np.sum(_real(t * _centred(x, axis), x), axis=axis, keepdims=keepdims) / (
        _count(np.shape(x), axis) - ddof)


def _std_vjp(g, ans, x, axis=None, ddof=0, keepdims=False):
    shape = np.shape(x)
    g = _kept(g, shape, axis, keepdims)
    n = _count(shape, axis)
    if n <= 1:          # one element per slice: std is constant (0, or nan if ddof=1)
        return g * (0.0 * x)
    return g * _centred(x, axis) / ((n - ddof) * _kept(ans, shape, axis, keepdims))


def _std_jvp(t, ans, x, axis=None, ddof=0, keepdims=False):
    n = _count(np.shape(x), axis)
    if n <= 1:
        return 0.0 * ans
    return np.sum(_real(t * _centred(x, axis), x), axis=axis, keepdims=keepdims) / (
        (n - ddof) * ans)


def _moment(row, name, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    # numpy's var/std signature onto the row
    _no(name, dtype=dtype, out=out, where=where, mean=mean)
    if correction is not None:
        if ddof != 0:
            raise ValueError(f"{name}: give ddof or correction, not both")
        ddof = correction
    if isinstance(axis, list):
        axis = tuple(axis)
    return row(a, axis=axis, ddof=ddof, keepdims=bool(keepdims))


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
         mean=None, correction=None):
    return _moment(_VAR, "var", a, axis, dtype, out, ddof, keepdims, where, mean,
                   correction)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
         mean=None, correction=None):
    return _moment(_STD, "std", a, axis, dtype, out, ddof, keepdims, where, mean,
                   correction)


_VAR = define("var", lambda x, axis=None, ddof=0, keepdims=False: np.var(
    x, axis=axis, ddof=ddof, keepdims=keepdims), [_var_vjp], [_var_jvp],
    functions=("var",), methods=("var",), front=_var)
_STD = define("std", lambda x, axis=None, ddof=0, keepdims=False: np.std(
    x, axis=axis, ddof=ddof, keepdims=keepdims), [_std_vjp], [_std_jvp],
    functions=("std",), methods=("std",), front=_std)


# ---- trace ----------------------------------------------------------------------------
def _trace_vjp(g, ans, x, offset=0, axis1=0, axis2=1):
    shape = np.shape(x)
    a1, a2 = _axes(axis1, len(shape))[0], _axes(axis2, len(shape))[0]
    eye = np.eye(shape[a1], shape[a2], k=offset, dtype=bool)
    if a1 > a2:
        eye = eye.T
    lo, hi = sorted((a1, a2))
    eye = eye.reshape(tuple(n if i in (lo, hi) else 1 for i, n in enumerate(shape)))
    return np.expand_dims(g, (lo, hi)) * eye        # a bool mask keeps g's dtype


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no("trace", dtype=dtype, out=out)
    return _TRACE(a, offset=offset, axis1=axis1, axis2=axis2)


_TRACE = define(
    "trace", lambda x, offset=0, axis1=0, axis2=1: np.trace(
        x, offset=offset, axis1=axis1, axis2=axis2),
    [_trace_vjp],
    [lambda t, ans, x, offset=0, axis1=0, axis2=1: np.trace(
        t, offset=offset, axis1=axis1, axis2=axis2)],
    functions=("trace",), methods=("trace",), front=_trace)


# ---- astype: float dtypes; the gradient cast back -------------------------------------
def _astype_front(a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"astype({dt}): a Tensor holds floating-point data (float16, "
                        "float32, float64); cast its values (t.data.astype(...)) outside "
                        "differentiation instead")
    if order != "K" or not subok:
        raise TypeError("astype: only order='K' and subok=True are supported on Tensors")
    if not np.can_cast(a.dtype, dt, casting):
        raise TypeError(f"astype: cannot cast from {a.dtype} to {dt} according to the "
                        f"rule {casting!r}")
    return _ASTYPE(a, dtype=dt)


_ASTYPE = define(
    "astype", lambda x, dtype: np.asarray(x).astype(dtype),
    [lambda g, ans, x, dtype: g.astype(x.dtype)],
    [lambda t, ans, x, dtype: t.astype(dtype)],
    functions=("astype",), methods=("astype",), front=_astype_front)


# ---- methods that are other functions -------------------------------------------------
def _flat(a, order="C"):
    if order != "C":
        raise TypeError(f"ravel/flatten: order={order!r} is not supported on Tensors "
                        "(only 'C')")
    return _tensor.reshape(a, (-1,))


expose(_flat, methods=("ravel", "flatten"))
# t.dot(b) is np.dot(t, b): whatever numpy's dispatch runs for np.dot on Tensors (today
# fastgrad._tensor.dot), looked up at the call so a later np.dot row serves the method too
expose(lambda a, b: _tensor.FUNCTIONS[np.dot](a, b), methods=("dot",))
