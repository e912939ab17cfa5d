"""Custom primitives: ``primitive``, ``defvjp``, ``defvjp_argnum``, ``defjvp``,
``defjvp_argnum``, ``def_linear``, with HIPS autograd's semantics.

A function wrapped by ``primitive`` becomes a row of the same registry the built-in ops
use (``fastgrad._tensor.Primitive``), so once its rules are defined it works in every
mode and to every order: ``grad``, ``make_jvp``, ``grad`` of ``grad``, Tensors and
``backward(create_graph=True)``. Its forward runs on plain values (ndarrays and
numbers, never Tensors); its rules get the values, which are Tensors of an outer level
while an outer differentiation records, so write them with ``fastgrad.numpy`` (or
numpy functions and operators, which dispatch on Tensors) and they differentiate too.

Example
-------
>>> import fastgrad.numpy as np
>>> from fastgrad.extend import primitive, defvjp, defjvp
>>> @primitive
... def logsumexp(x):
...     m = np.max(x)
...     return m + np.log(np.sum(np.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> defjvp(logsumexp, lambda t, ans, x: np.sum(t * np.exp(x - ans)))

A VJP (JVP) that returns the wrong shape, one that is missing, or a forward that
returns something other than an array or a number, raises an error naming the
primitive (and the shapes).

``VSpace`` and ``vspace`` (``fastgrad.core``) are here too, as in autograd: the vector
space of a value, and the base class a new kind of value registers a space with. A
primitive called while ``fastgrad.misc.const_graph`` traces is recorded there as one
operation.
"""
import functools
import weakref

from . import _tensor
from .core import _GRAPH_RECORDERS, VSpace, vspace

__all__ = ["primitive", "defvjp", "defvjp_argnum", "defjvp", "defjvp_argnum", "def_linear",
           "VSpace", "vspace"]

#: the live functions ``primitive`` made (``fastgrad.core.primitive_vjps`` lists them)
_USER_PRIMITIVES: weakref.WeakSet = weakref.WeakSet()


def primitive(f_raw):
    """Make ``f_raw`` a primitive: fastgrad records it as one op, never looks inside.

    Parameters
    ----------
    f_raw : callable
        Computes the value from plain ndarrays and numbers (positional arguments may be
        differentiated; keyword arguments are parameters, never differentiated).

    Returns
    -------
    callable
        Calls ``f_raw`` on plain values, and records (or carries tangents) when an
        argument is a Tensor being differentiated. Give it rules with ``defvjp`` /
        ``defjvp`` (or the ``_argnum`` forms, or ``def_linear``).
    """
    row = _tensor._user_primitive(f_raw)

    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        if _GRAPH_RECORDERS:            # only while const_graph traces a function
            recorded = _GRAPH_RECORDERS[-1](f_wrapped, args, kwargs)
            if recorded is not NotImplemented:
                return recorded
        return row(*args, **kwargs)

    f_wrapped.fun = f_raw               # as autograd's
    f_wrapped._fastgrad_primitive = row
    _USER_PRIMITIVES.add(f_wrapped)
    return f_wrapped


def _row(fun, who):
    row = getattr(fun, "_fastgrad_primitive", None)
    if row is None:
        raise TypeError(f"{who}: {getattr(fun, '__name__', fun)!r} is not a primitive; "
                        "wrap it with fastgrad.extend.primitive first")
    return row


def defvjp_argnum(fun, vjpmaker):
    """Define all VJPs of ``fun`` at once.

    ``vjpmaker(argnum, ans, args, kwargs)`` returns a function ``g -> cotangent`` of the
    positional argument ``argnum``, shaped like it.
    """
    _tensor._set_user_rules(_row(fun, "defvjp_argnum"), vjp=vjpmaker)


def defvjp(fun, *vjpmakers, argnums=None):
    """Define the VJP of ``fun`` with respect to each positional argument.

    Parameters
    ----------
    fun : primitive
    *vjpmakers : callable or None
        ``vjpmaker(ans, *args, **kwargs)`` returns ``g -> cotangent`` for one argument
        (the first for argument 0, ...); None: that argument is not differentiable.
    argnums : sequence of int, optional
        Which arguments the makers are for (default 0, 1, ...).
    """
    row = _row(fun, "defvjp")
    makers = dict(zip(range(len(vjpmakers)) if argnums is None else argnums, vjpmakers))

    def vjp_argnum(argnum, ans, args, kwargs):
        maker = makers.get(argnum)
        if maker is None:
            raise NotImplementedError(f"primitive {row.name}: the VJP for argument "
                                      f"{argnum} is not defined (defvjp)")
        return maker(ans, *args, **kwargs)
    _tensor._set_user_rules(row, vjp=vjp_argnum)


def defjvp_argnum(fun, jvpmaker):
    """Define all JVPs of ``fun`` at once: ``jvpmaker(argnum, t, ans, args, kwargs)``
    returns the output's tangent (shaped like ``ans``) when argument ``argnum`` moves
    by ``t``."""
    _tensor._set_user_rules(_row(fun, "defjvp_argnum"), jvp=jvpmaker)


def defjvp(fun, *jvpfuns, argnums=None):
    """Define the JVP of ``fun`` with respect to each positional argument.

    Parameters
    ----------
    fun : primitive
    *jvpfuns : callable or None
        ``jvpfun(t, ans, *args, **kwargs)`` returns the output's tangent (shaped like
        ``ans``) for argument k's tangent ``t``; None: not differentiable.
    argnums : sequence of int, optional
        Which arguments the functions are for (default 0, 1, ...).
    """
    row = _row(fun, "defjvp")
    funs = dict(zip(range(len(jvpfuns)) if argnums is None else argnums, jvpfuns))

    def jvp_argnum(argnum, t, ans, args, kwargs):
        jvpfun = funs.get(argnum)
        if jvpfun is None:
            raise NotImplementedError(f"primitive {row.name}: the JVP for argument "
                                      f"{argnum} is not defined (defjvp)")
        return jvpfun(t, ans, *args, **kwargs)
    _tensor._set_user_rules(row, jvp=jvp_argnum)


def def_linear(fun):
    """Declare ``fun`` linear in each positional argument (jointly multilinear, as
    autograd's): the JVP for argument k is ``fun`` with the tangent in place of it."""
    def jvp_argnum(argnum, t, ans, args, kwargs):
        args = list(args)
        args[argnum] = t
        return fun(*args, **kwargs)
    _tensor._set_user_rules(_row(fun, "def_linear"), jvp=jvp_argnum)
