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


def _wrap(x, leaves, path):
    """The structure of x with every array or number replaced by a leaf Tensor."""
    if isinstance(x, (list, tuple)):
        items = [_wrap(v, leaves, f"{path}[{i}]") for i, v in enumerate(x)]
        return type(x)(items) if type(x) in (list, tuple) else type(x)(*items)
    if isinstance(x, dict):
        return type(x)((k, _wrap(v, leaves, f"{path}[{k!r}]")) for k, v in x.items())
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, (numbers.Number, np.ndarray, np.generic)) and not isinstance(x, str):
        try:
            t = Tensor(x, requires_grad=True)
        except TypeError as exc:
            raise TypeError(f"grad: cannot differentiate with respect to {path}: "
                            f"{exc}") from None
        leaves.append((t, isinstance(x, numbers.Number)))
        return t
    raise TypeError(f"grad: cannot differentiate with respect to {path}, a "
                    f"{type(x).__name__}; give floats, arrays, or lists/tuples/dicts of them")


def _unwrap(x, grads):
    """The structure of x (as wrapped) with each leaf Tensor replaced by its gradient."""
    if isinstance(x, (list, tuple)):
        items = [_unwrap(v, grads) for v in x]
        return type(x)(items) if type(x) in (list, tuple) else type(x)(*items)
    if isinstance(x, dict):
        return type(x)((k, _unwrap(v, grads)) for k, v in x.items())
    return grads[id(x)]


def _check_argnum(args, argnum):
    if not isinstance(argnum, int) or not -len(args) <= argnum < len(args):
        raise ValueError(f"argnum={argnum!r} does not name one of the {len(args)} "
                         "positional arguments")


def _value_and_grad(fun, argnum, args, kwargs):
    _check_argnum(args, argnum)
    leaves = []
    wrapped = _wrap(args[argnum], leaves, "the argument")
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
        g = t.grad if t.grad is not None else np.zeros_like(t.data)
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
