"""PROVISIONAL ``make_vjp`` on the first-order Tensor engine (branch i12f only).

This module stands in for branch i12e's ``fastgrad/core.py`` (levels, nested
differentiation, native forward mode) so that ``fastgrad.functional`` can be developed
against the same interface; i12e's version replaces it when that branch is merged.

It does only what today's engine can do correctly, and raises ``NotImplementedError``
for the rest, never a wrong number: no differentiation inside another differentiation,
no cotangent that is itself being differentiated, no forward mode.
"""
import numbers
import warnings

import numpy as np

from ._tensor import Tensor

__all__ = ["make_vjp", "make_jvp"]

_depth = 0          # make_vjp forward passes in progress (nesting is refused)


class _Unsupported(TypeError):
    """Raised by _wrap; collects the keys leading to the offending item on its way up."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what
        self.path = []

    def __str__(self):
        where = "the argument" + "".join(f"[{k!r}]" for k in self.path)
        return f"cannot differentiate with respect to {where}: {self.what}"


def _wrap(x, leaves):
    """The structure of x with every array or number replaced by a leaf Tensor."""
    kind = type(x)
    if isinstance(x, (list, tuple, dict)):
        keys = list(x.keys()) if isinstance(x, dict) else range(len(x))
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
        raise NotImplementedError("differentiating with respect to a Tensor that is being "
                                  "differentiated (nested differentiation) needs the "
                                  "engine of issue 12")
    if isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        try:
            t = Tensor(x, requires_grad=True)
        except TypeError as exc:
            raise _Unsupported(str(exc)) from None
        leaves.append((t, isinstance(x, numbers.Number) and not isinstance(x, np.generic)))
        return t
    raise _Unsupported(f"a {kind.__name__}; give floats, arrays, or lists/tuples/dicts "
                       "of them")


def _unwrap(x, grads):
    """The structure of x (as wrapped) with each leaf Tensor replaced by grads[id]."""
    if type(x) is Tensor:
        return grads[id(x)]
    if isinstance(x, dict):
        return type(x)((k, _unwrap(v, grads)) for k, v in x.items())
    items = [_unwrap(v, grads) for v in x]
    return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)


def _reaches(out, leaves):
    """Whether the recorded graph of out reaches one of the leaves."""
    targets = {id(t) for t, _ in leaves}
    seen, stack = set(), [out]
    while stack:
        t = stack.pop()
        if id(t) in targets:
            return True
        if id(t) not in seen:
            seen.add(id(t))
            stack.extend(p for p in t.parents if p is not None)
    return False


def make_vjp(fun, x):
    """``(vjp, fun(x))``; ``vjp(g)`` is g's cotangent in x's structure (first order only).

    Parameters
    ----------
    fun : callable
        A function of one argument.
    x : float, ndarray or nested lists/tuples/dicts of them

    Returns
    -------
    vjp : callable
        ``vjp(g)``, g shaped like the output: the cotangent, in x's structure.
    ans : ndarray or number
        ``fun(x)`` as plain values.
    """
    global _depth
    if _depth:
        raise NotImplementedError("nested differentiation (a derivative inside a "
                                  "function being differentiated) needs the engine of "
                                  "issue 12")
    leaves = []
    wrapped = _wrap(x, leaves)
    _depth += 1
    try:
        out = fun(wrapped)
    finally:
        _depth -= 1
    if not (isinstance(out, Tensor) and _reaches(out, leaves)):
        if isinstance(out, (list, tuple, dict)):
            raise TypeError("make_vjp: the function must return an array, a number or "
                            f"a Tensor, it returned a {type(out).__name__}")
        warnings.warn("Output seems independent of input.", UserWarning, stacklevel=2)
        zeros = {id(t): (0.0 if number else np.zeros(t.shape, t.dtype))
                 for t, number in leaves}
        return (lambda g: _unwrap(wrapped, zeros)), (out.data if isinstance(out, Tensor)
                                                     else out)

    def vjp(g):
        if isinstance(g, Tensor) or _depth:
            raise NotImplementedError("differentiating a vector-Jacobian product needs "
                                      "the engine of issue 12")
        for t, _ in leaves:
            t.grad = None
        out.backward(np.asarray(g, out.dtype))
        grads = {}
        for t, number in leaves:
            gt = t.grad if t.grad is not None else np.zeros(t.shape, t.dtype)
            grads[id(t)] = float(gt) if number else gt
        return _unwrap(wrapped, grads)
    return vjp, out.data


def make_jvp(fun, x):
    """Forward mode: not available on the first-order engine."""
    raise NotImplementedError("forward mode (make_jvp) needs the engine of issue 12")
