"""Numeric checks of derivatives: ``check_grads``, with HIPS autograd's semantics.

``check_grads(f, argnum=0, modes=["fwd", "rev"], order=2)(*args, **kwargs)`` compares
fastgrad's derivatives of ``f`` with central differences at ``args``:

* reverse mode ("rev"): for random directions ``v`` (like the argument) and ``u`` (like
  the output), the inner product ``<v, vjp(u)>`` of the analytic vector-Jacobian product
  (``fastgrad.make_vjp``) against ``<u, (f(x + eps/2 v) - f(x - eps/2 v)) / eps>``;
* forward mode ("fwd"): the analytic Jacobian-vector product (``make_jvp``) against the
  same difference quotient, projected on a random direction;
* ``order > 1``: the same checks, recursively, on the derivative functions themselves,
  ``(x, u) -> vjp_x(u)`` and ``(x, v) -> jvp_x(v)``, with respect to both arguments, down
  to order 1. Order 2 therefore differentiates fastgrad's derivatives again with
  fastgrad.

Directions are drawn from ``numpy.random`` (seed it for reproducible runs). A failed
check raises ``AssertionError`` saying which check of which function failed, at which
argument, with both numbers. Tolerances are autograd's: values agree when they differ by
less than ``TOL`` absolutely or ``RTOL`` relatively (``EPS`` is the difference step), so
check float64 arguments.
"""
from itertools import product

import numpy as np

from .functional import _make_jvp as make_jvp
from .functional import _make_vjp as make_vjp
from .functional import _nary, _tree_map

__all__ = ["check_grads", "check_equivalent", "combo_check", "scalar_close"]

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    """Whether two numbers agree within ``TOL`` absolutely or ``RTOL`` relatively."""
    return abs(a - b) < TOL or abs(a - b) < RTOL * abs(a + b)


# ---- the vector space of a value: structure, shapes, dtypes -----------------------------

def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, (bool, np.generic))


def _space(value):
    """The value's vector space: its structure with each leaf as (shape, dtype)."""
    def leaf(v):
        if isinstance(v, (str, bytes)) or v is None:
            raise TypeError(f"check_grads: a {type(v).__name__} is not a vector of real "
                            "or complex numbers")
        a = np.asarray(v)
        if a.dtype.kind not in "fc":
            if a.dtype.kind not in "iub":
                raise TypeError(f"check_grads: {a.dtype} data is not a vector of numbers")
            return a.shape, np.dtype(np.float64)    # ints and bools: promoted, as fastgrad
        return a.shape, a.dtype
    return _tree_map(leaf, value)


def _randn(value):
    """A random normal vector in value's space (a float for a Python number)."""
    def leaf(v):
        shape, dtype = _space(v)
        r = np.asarray(np.random.randn(*shape))
        if dtype.kind == "c":
            r = r + 1j * np.asarray(np.random.randn(*shape))
        return float(r) if _is_number(v) and not isinstance(v, complex) else r.astype(dtype)
    return _tree_map(leaf, value)


def _axpy(a, x, y):
    """a * x + y, leaf by leaf."""
    return _tree_map(lambda xl, yl: a * xl + yl, x, y)


def _inner(x, y):
    """The real inner product Re <x, y>, summed over the leaves."""
    total = 0.0
    for xl, yl in zip(_flat(x), _flat(y)):
        total += float(np.real(np.vdot(np.ravel(xl), np.ravel(yl))))
    return total


def _flat(tree):
    out = []
    _tree_map(out.append, tree)
    return out


def _conj(x):
    return _tree_map(lambda leaf: np.conj(leaf) if np.iscomplexobj(leaf) else leaf, x)


def _numeric_jvp(f, x):
    """v -> the central difference (f(x + eps/2 v) - f(x - eps/2 v)) / eps."""
    def jvp(v):
        ahead = f(_axpy(EPS / 2, v, x))
        behind = f(_axpy(-EPS / 2, v, x))
        return _tree_map(lambda a, b: (a - b) / EPS, ahead, behind)
    return jvp


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


# ---- the checks ---------------------------------------------------------------------------

def _check_vjp(f, x):
    vjp, y = make_vjp(f, x)
    v, u = _randn(x), _randn(y)
    g = _conj(vjp(_conj(u)))
    expected, got = _space(x), _space(g)
    assert got == expected, (
        f"(VJP) check of {_name(f)} failed with arg {x!r}: the vector-Jacobian product "
        f"has space {got}, the argument's is {expected}")
    analytic = _inner(v, g)
    numeric = _inner(u, _numeric_jvp(f, x)(v))
    assert scalar_close(numeric, analytic), (
        f"Derivative (VJP) check of {_name(f)} failed with arg {x!r}:\n"
        f"analytic <v, vjp(u)>: {analytic!r}\n"
        f"numeric  <u, J v>:    {numeric!r} (central differences, eps={EPS})")


def _check_jvp(f, x):
    v = _randn(x)
    _, analytic = make_jvp(f, x)(v)
    numeric = _numeric_jvp(f, x)(v)
    try:
        check_equivalent(analytic, numeric)
    except AssertionError as exc:
        raise AssertionError(f"Derivative (JVP) check of {_name(f)} failed with arg "
                             f"{x!r} (analytic first, numeric second): {exc}") from None


def check_equivalent(x, y):
    """Assert that x and y have the same vector space and agree along a random direction.

    Raises
    ------
    AssertionError
        Saying whether the spaces (structure, shapes, dtypes) or the values differ.
    """
    xs, ys = _space(x), _space(y)
    assert xs == ys, f"VSpace mismatch:\nx: {xs}\ny: {ys}"
    w = _randn(x)
    assert scalar_close(_inner(x, w), _inner(y, w)), f"Value mismatch:\nx: {x!r}\ny: {y!r}"


@_nary
def check_grads(f, x, modes=("fwd", "rev"), order=2):
    """Check fastgrad's derivatives of ``f`` against central differences.

    Parameters
    ----------
    f : callable
    argnum : int or tuple of ints, default 0
        The argument(s) to check the derivatives with respect to.
    modes : sequence of {"fwd", "rev"}, default ("fwd", "rev")
        Forward mode (``make_jvp``), reverse mode (``make_vjp``), or both.
    order : int, default 2
        Check derivatives up to this order: order 2 also checks the derivatives of the
        JVP and VJP functions, and so on recursively.

    Returns
    -------
    callable
        Takes ``f``'s arguments, runs the checks there and returns None.

    Raises
    ------
    AssertionError
        "Derivative (VJP) check of <name> failed ..." (or JVP), with the analytic and
        numeric values; the name is ``vjp_<f>``/``jvp_<f>`` for a higher order.
    ValueError
        For a mode other than "fwd"/"rev" or an order below 1.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.test_util import check_grads
    >>> check_grads(lambda x: np.sum(np.tanh(x) ** 2), modes=["rev"], order=1)(np.ones(3))
    """
    if isinstance(modes, str) or not set(modes) <= {"fwd", "rev"} or not modes:
        raise ValueError(f"check_grads: modes must be a list of 'fwd' and/or 'rev', not "
                         f"{modes!r}")
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be an int >= 1, not {order!r}")
    if "fwd" in modes:
        _check_jvp(f, x)
        if order > 1:
            def jvp_f(x, v):
                return make_jvp(f, x)(v)[1]
            jvp_f.__name__ = f"jvp_{_name(f)}"
            check_grads(jvp_f, (0, 1), modes, order - 1)(x, _randn(x))
    if "rev" in modes:
        _check_vjp(f, x)
        if order > 1:
            def vjp_f(x, u):
                return make_vjp(f, x)[0](u)
            vjp_f.__name__ = f"vjp_{_name(f)}"
            check_grads(vjp_f, (0, 1), modes, order - 1)(x, _randn(f(x)))


def combo_check(fun, *check_args, **check_kwargs):
    """``check_grads`` at every combination of the given argument values.

    ``combo_check(fun, argnum, modes=...)(xs, ys, k=[...])`` runs
    ``check_grads(fun, argnum, modes=...)(x, y, k=kv)`` for every x in xs, y in ys and
    kv in the keyword's list.
    """
    def run(*arg_lists, **kwarg_lists):
        keyed = [[(k, v) for v in values] for k, values in kwarg_lists.items()]
        for args in product(*arg_lists):
            for kwargs in product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))
    return run
