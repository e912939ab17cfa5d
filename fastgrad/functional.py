"""``grad`` and ``value_and_grad``: HIPS-autograd-style differentiation of functions.

The function is called with its differentiated argument replaced by Tensors that require
gradients (the same nested structure of lists, tuples and dicts), so numpy code runs on
the tape through ``fastgrad.numpy`` or plain ``numpy`` (Tensors implement numpy's
dispatch protocols). One reverse sweep from the scalar result fills every gradient, and
the gradients come back in the argument's structure, as ndarrays (floats for floats).

Type rule: the differentiated argument must hold real numbers. Floating arrays keep
their dtype (float32 gradients for float32 inputs); ints, bools and Python numbers are
promoted to float64 for differentiation (a Python int or float comes back as a float);
complex and object data raise ``TypeError``. Only first derivatives are supported.
"""
import functools
import numbers

import numpy as np

from ._tensor import Tensor

__all__ = ["grad", "value_and_grad"]


class _Unsupported(TypeError):
    """Raised by _wrap; collects the keys leading to the offending item on its way up."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what
        self.path = []

    def __str__(self):
        where = "the argument" + "".join(f"[{k!r}]" for k in self.path)
        return f"grad: cannot differentiate with respect to {where}: {self.what}"


def _wrap(x, leaves):
    """The structure of x with every array or number replaced by a leaf Tensor."""
    kind = type(x)
    if kind is np.ndarray or kind is float:             # the common cases first
        try:
            t = Tensor(x, requires_grad=True)
        except TypeError as exc:
            raise _Unsupported(str(exc)) from None
        leaves.append((t, kind is float))
        return t
    if isinstance(x, (list, tuple, dict)):
        keys = x.keys() if isinstance(x, dict) else range(len(x))
        items = []
        for k in keys:
            try:
                items.append(_wrap(x[k], leaves))
            except _Unsupported as exc:
                exc.path.insert(0, k)
                raise
        if isinstance(x, dict):
            return kind(zip(keys, items))
        return kind(*items) if hasattr(x, "_fields") else kind(items)
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        try:
            t = Tensor(x, requires_grad=True)
        except TypeError as exc:
            raise _Unsupported(str(exc)) from None
        leaves.append((t, isinstance(x, numbers.Number)))
        return t
    raise _Unsupported(f"a {kind.__name__}; give floats, arrays, or lists/tuples/dicts "
                       "of them")


def _unwrap(x, grads):
    """The structure of x (as wrapped) with each leaf Tensor replaced by its gradient."""
    kind = type(x)
    if kind is Tensor:
        return grads[id(x)]
    if kind is list or kind is tuple:
        return kind([_unwrap(v, grads) for v in x])
    if isinstance(x, (list, tuple)):
        items = [_unwrap(v, grads) for v in x]
        return kind(*items) if hasattr(x, "_fields") else kind(items)
    return kind((k, _unwrap(v, grads)) for k, v in x.items())


def _check_argnum(args, argnum):
    if not isinstance(argnum, int) or not -len(args) <= argnum < len(args):
        raise ValueError(f"argnum={argnum!r} does not name one of the {len(args)} "
                         "positional arguments")


def _value_and_grad(fun, argnum, args, kwargs):
    _check_argnum(args, argnum)
    leaves = []
    wrapped = _wrap(args[argnum], leaves)
    args = list(args)
    args[argnum] = wrapped
    out = fun(*args, **kwargs)
    if isinstance(out, Tensor):
        if out.size != 1:
            raise ValueError(f"grad: the function must return a scalar, it returned shape "
                             f"{out.shape}; use a sum or mean, or a Jacobian tool")
        value = out.item()
        if out.requires_grad:
            out.backward()
    else:
        if np.size(out) != 1:
            raise ValueError(f"grad: the function must return a scalar, it returned shape "
                             f"{np.shape(out)}")
        value = float(np.asarray(out).item())  # independent of the argument: zero gradient
    grads = {}
    for t, was_number in leaves:
        g = t.grad if t.grad is not None else np.zeros(t.shape, t.dtype)
        grads[id(t)] = float(g) if was_number else g
    return value, _unwrap(wrapped, grads)


def grad(fun, argnum=0):
    """The gradient of a scalar function, as a function.

    Parameters
    ----------
    fun : callable
        Returns a scalar (a one-element Tensor or a number).
    argnum : int, default 0
        The positional argument to differentiate with respect to: a float, an ndarray,
        or nested lists/tuples/dicts of them.

    Returns
    -------
    callable
        Takes ``fun``'s arguments and returns d fun / d args[argnum], with the
        argument's structure (ndarrays of the argument's float dtype; floats for numbers).

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad import grad
    >>> grad(lambda x: np.sum(np.tanh(x) ** 2))(np.array([0.0, 1.0]))
    array([0.        , 0.63970001])
    """
    @functools.wraps(fun)
    def gradient(*args, **kwargs):
        return _value_and_grad(fun, argnum, args, kwargs)[1]
    return gradient


def value_and_grad(fun, argnum=0):
    """Like ``grad``, but the returned function gives ``(fun(*args), gradient)``."""
    @functools.wraps(fun)
    def both(*args, **kwargs):
        return _value_and_grad(fun, argnum, args, kwargs)
    return both
