"""``make_vjp`` and ``make_jvp``: the two differentiations every other tool is built on.

``make_vjp(fun, x)`` runs ``fun`` once on ``x`` with every array or number in it
replaced by a Tensor of a fresh reverse-mode level, and returns a function that sweeps
that recording back from any cotangent: reverse mode. ``make_jvp(fun, x)`` returns a
function that runs ``fun`` on Tensors of a fresh forward-mode level carrying tangents,
so the output comes with its tangent: forward mode, with a JVP rule per primitive (not
a double reverse pass). ``fastgrad.functional`` (``grad``, ``jacobian``, ``hessian``,
...) is a layer of thin wrappers over these two, as autograd's is.

Levels
------
Each call opens its own level (``fastgrad._tensor`` explains levels), so the two nest
in any order and to any depth: ``make_vjp`` inside the function given to ``make_jvp`` is
forward-over-reverse (Hessian-vector products), ``make_vjp`` inside ``make_vjp`` gives
second derivatives, and a closure over an outer variable is a constant to the inner
differentiation (no perturbation confusion). A ``vjp`` or ``jvp`` called while an outer
differentiation is running records its own work on the outer level, so every
derivative can be differentiated again.

Type rule
---------
``x`` is a float, an int, a numpy scalar, an ndarray, a Tensor of an enclosing
differentiation, or nested lists/tuples/dicts (namedtuples included) of those.
Floating and complex arrays keep their dtype; ints, bools and Python reals are
promoted to float64 (Python complex numbers to complex128); object data raise
``TypeError`` naming where in the structure they are. Cotangents come back in ``x``'s
structure: floats (complex for a complex number) for Python numbers, arrays of the
input's dtype otherwise (Tensors when an enclosing differentiation is recording them).
Complex values follow autograd's convention (``fastgrad._tensor``, "Complex numbers"):
a real input's cotangent is real, and ``vjp(g)`` takes a complex ``g`` for a complex
output.

A function whose output does not depend on ``x`` (it went through ``float()`` or
``.item()``, or is a constant) gets ``UserWarning("Output seems independent of
input.")``, as in autograd, and zero derivatives.
"""
import numbers
import warnings

import numpy as np

from . import _tensor
from ._tensor import Tensor

_box, _box_arrays, _unbox = _tensor.box, _tensor.box_arrays, _tensor.unbox
_reverse, _level_of = _tensor.reverse, _tensor.level_of

__all__ = ["make_vjp", "make_jvp"]

_INDEPENDENT = "Output seems independent of input."


class _Unsupported(TypeError):
    """Raised while wrapping; collects the keys leading to the offending item."""

    def __init__(self, what, who="make_vjp"):
        super().__init__(what)
        self.what = what
        self.who = who
        self.path = []

    def __str__(self):
        where = "the argument" + "".join(f"[{k!r}]" for k in self.path)
        return f"{self.who}: cannot differentiate with respect to {where}: {self.what}"


def _float_value(x):
    """(value, was_number) for one item of x: a floating ndarray, or an outer Tensor."""
    if isinstance(x, Tensor):
        if _tensor.level_of(x) >= 0:
            return x, False
        x = x.data
    if not isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        raise _Unsupported(f"a {type(x).__name__}; give floats, arrays, or "
                           "lists/tuples/dicts of them")
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind in "iub":
        arr = arr.astype(np.float64)
    elif kind != "f" and kind != "c":
        raise _Unsupported(f"data of dtype {arr.dtype}; give numbers or a numeric array")
    return arr, isinstance(x, numbers.Number)


def _items(x):
    """The keys of a container, or None for a leaf item."""
    if isinstance(x, dict):
        return list(x.keys())
    if isinstance(x, (list, tuple)):
        return range(len(x))
    return None


def _rebuild(template, items):
    kind = type(template)
    if isinstance(template, dict):
        return kind(zip(template.keys(), items))
    return kind(*items) if hasattr(template, "_fields") else kind(items)


def _wrap(x, level, leaves, v, who):
    """x's structure with every item a Tensor of ``level``; with ``v`` (same structure),
    forward-mode Tensors carrying v's items as tangents."""
    if v is _NO:
        # the common cases, quickly: a floating ndarray, or a list of them (what the
        # general path below does for these, without its checks)
        kind = type(x)
        if kind is np.ndarray and x.dtype.kind == "f":
            t = _box(x, level)
            leaves.append((t, False, x))
            return t
        if kind is list:
            items = []
            for k, item in enumerate(x):
                if type(item) is np.ndarray and item.dtype.kind == "f":
                    t = _box(item, level)
                    leaves.append((t, False, item))
                    items.append(t)
                    continue
                try:
                    items.append(_wrap(item, level, leaves, v, who))
                except _Unsupported as exc:
                    exc.path.insert(0, k)
                    raise
            return items
    keys = _items(x)
    if keys is not None:
        if v is not _NO and (_items(v) is None or list(_items(v)) != list(keys)):
            raise _Unsupported(f"the tangent ({type(v).__name__}) does not have the "
                               f"structure of the argument ({type(x).__name__} of "
                               f"{len(keys)} item(s))", who)
        items = []
        for k in keys:
            try:
                items.append(_wrap(x[k], level, leaves, _NO if v is _NO else v[k], who))
            except _Unsupported as exc:
                exc.path.insert(0, k)
                raise
        return _rebuild(x, items)
    try:
        value, was_number = _float_value(x)
    except _Unsupported as exc:
        exc.who = who
        raise
    tangent = None
    if v is not _NO:
        tangent = _tangent_value(v, value, who)
    t = _tensor.box(value, level, tangent)
    leaves.append((t, was_number, value))
    return t


_NO = object()          # no tangent structure given (reverse mode)
_ARRAY = {np.ndarray}


def _tangent_value(v, value, who):
    dtype = _tensor.value_of(value).dtype
    if isinstance(v, Tensor) and _tensor.level_of(v) >= 0:
        t = v
    else:
        try:
            t, _ = _float_value(v)
        except _Unsupported as exc:
            exc.who = who
            exc.what = "the tangent: " + exc.what
            raise
        t = t.astype(dtype, copy=False)
    if np.shape(_tensor.value_of(t)) != np.shape(_tensor.value_of(value)):
        raise _Unsupported(f"the tangent has shape {np.shape(_tensor.value_of(t))}, the "
                           f"argument {np.shape(_tensor.value_of(value))}", who)
    return t


def _unwrap(x, leaves, values):
    """x's structure (as wrapped) with its i-th leaf Tensor replaced by values[i]."""
    it = iter(values)

    def walk(item):
        keys = _items(item)
        if keys is None:
            return next(it)
        return _rebuild(item, [walk(item[k]) for k in keys])
    return walk(x)


def _result(c, was_number, value):
    """A cotangent or tangent as handed back: an outer Tensor, a float, or an array of
    the input's float dtype."""
    dtype = _tensor.value_of(value).dtype
    if c is None:
        c = np.zeros(np.shape(_tensor.value_of(value)), dtype)
    elif isinstance(c, Tensor):
        if _tensor.level_of(c) >= 0:
            return c
        c = c.data
    c = np.asarray(c)
    if c.dtype != dtype:
        c = (c.real if c.dtype.kind == "c" and dtype.kind != "c" else c).astype(dtype)
    if was_number:
        return complex(c) if dtype.kind == "c" else float(c)
    return c


class _BadOutput(TypeError):
    """fun returned something that is not an array, a number or a Tensor (``out``)."""

    def __init__(self, message, out):
        super().__init__(message)
        self.out = out


def _plain(out, level, who):
    """fun's output with this level's box removed: (value, True when it depends on x)."""
    if isinstance(out, (list, tuple, dict)) or not isinstance(
            out, (Tensor, np.ndarray, np.generic, numbers.Number)):
        raise _BadOutput(f"{who}: the function must return an array, a number or a "
                        f"Tensor, it returned a {type(out).__name__}", out)
    value, dependent = _tensor.unbox(out, level)
    if isinstance(value, Tensor) and _tensor.level_of(value) < 0:
        value = value.data
    return value, dependent


def _scalar_or_array(value):
    # a 0-d array comes back as a numpy scalar (np.float64 is a float), as autograd's
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _make_vjp(fun, x, who="make_vjp"):
    level = _tensor.new_level()
    boxed = _box_arrays(x, level) if type(x) is list else None
    if boxed is not None:       # a list of floating ndarrays, the common case, quickly
        leaves = None
        tensors, values, flat = boxed, list(x), True
    else:
        leaves = []
        boxed = _wrap(x, level, leaves, _NO, who)
        tensors = [t for t, _, _ in leaves]
        values = [v for _, _, v in leaves]
        # a list of ndarrays: no leaf was a number, no structure to rebuild
        flat = type(x) is list and len(leaves) == len(x) and set(map(type, x)) == _ARRAY
    single = type(x) is np.ndarray
    out = fun(boxed)
    if type(out) is Tensor:                             # the common case, quickly
        value, dependent = _unbox(out, level)
        if type(value) is Tensor and _level_of(value) < 0:
            value = value.data
    else:
        value, dependent = _plain(out, level, who)
    if not dependent:
        warnings.warn(_INDEPENDENT, UserWarning, stacklevel=3)
    if type(value) is np.ndarray:
        shape, dtype = value.shape, value.dtype
    else:
        shape = np.shape(_tensor.value_of(value))
        dtype = np.asarray(_tensor.value_of(value)).dtype
    if dtype.kind != "f" and dtype.kind != "c":
        dtype = np.dtype(np.float64)

    def vjp(g):
        if type(g) is float:                            # the common case, quickly
            seed = np.array(g, dtype)
            gshape = ()
        elif isinstance(g, Tensor) and _level_of(g) >= 0:
            seed = g
            gshape = g.shape
        else:
            seed = np.asarray(g.data if isinstance(g, Tensor) else g)
            if seed.dtype.kind not in ("fiubc" if dtype.kind == "c" else "fiub"):
                raise TypeError(f"{who}: vjp(g): g must be real numbers (the output is "
                                f"real), got dtype {seed.dtype}")
            seed = seed.astype(dtype, copy=False)
            gshape = seed.shape
        if gshape != shape:
            raise ValueError(f"{who}: vjp(g): g of shape {gshape} does not match the "
                             f"output's shape {shape}")
        if dependent:
            grads = _reverse(out, seed, tensors)
        else:
            grads = [None] * len(tensors)
        if flat:
            return [c if type(c) is np.ndarray and c.dtype == v.dtype
                    else _result(c, False, v) for c, v in zip(grads, values)]
        results = [_result(c, n, v) for c, (_, n, v) in zip(grads, leaves)]
        if single:
            return results[0]
        return _unwrap(x, leaves, results)

    if type(value) is np.ndarray:                       # _scalar_or_array, quickly
        return vjp, (value[()] if value.ndim == 0 else value)
    return vjp, _scalar_or_array(value)


def make_vjp(fun, x):
    """Reverse mode: run ``fun(x)`` once and return its vector-Jacobian product.

    Parameters
    ----------
    fun : callable
        A function of one argument returning an array or a number (any shape).
    x : float, int, numpy scalar, ndarray, Tensor, or nested lists/tuples/dicts of them
        The point. A Tensor of an enclosing differentiation is differentiated through.

    Returns
    -------
    vjp : callable
        ``vjp(g)``, with ``g`` shaped like ``ans``, returns ``g`` times the Jacobian of
        ``fun`` at ``x``: the cotangent in ``x``'s structure. It may be called many
        times; called inside an enclosing differentiation, it is recorded there.
    ans : ndarray, float or Tensor
        ``fun(x)`` with this differentiation's Tensors removed.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.core import make_vjp
    >>> vjp, ans = make_vjp(lambda x: np.sin(x) * 2.0, np.array([0.0, 1.0]))
    >>> vjp(np.ones(2))
    array([2.        , 1.08060461])
    """
    return _make_vjp(fun, x, "make_vjp")


def _make_jvp(fun, x, who="make_jvp"):
    def jvp(v):
        level = _tensor.new_level()
        leaves = []
        boxed = _wrap(x, level, leaves, v, who)
        out = fun(boxed)
        value, dependent = _plain(out, level, who)
        if dependent:
            tangent = _tensor.tangent_of(out)
        else:
            warnings.warn(_INDEPENDENT, UserWarning, stacklevel=2)
            v0 = _tensor.value_of(value)
            dtype = np.asarray(v0).dtype
            tangent = np.zeros(np.shape(v0), dtype if dtype.kind in "fc" else np.float64)
        return _scalar_or_array(value), _scalar_or_array(tangent)
    return jvp


def make_jvp(fun, x):
    """Forward mode: the Jacobian-vector product of ``fun`` at ``x``.

    Parameters
    ----------
    fun : callable
        A function of one argument returning an array or a number (any shape).
    x : float, int, numpy scalar, ndarray, Tensor, or nested lists/tuples/dicts of them
        The point (the same type rule as ``make_vjp``).

    Returns
    -------
    jvp : callable
        ``jvp(v)``, with ``v`` shaped and structured like ``x``, runs ``fun`` once with
        tangents and returns ``(ans, tangent)``: ``fun(x)`` and the Jacobian times
        ``v``, shaped like ``ans``.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.core import make_jvp
    >>> make_jvp(lambda x: x ** 3, 2.0)(1.0)
    (np.float64(8.0), np.float64(12.0))
    """
    return _make_jvp(fun, x, "make_jvp")
