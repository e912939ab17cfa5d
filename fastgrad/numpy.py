"""numpy with fastgrad's differentiable functions swapped in: ``import fastgrad.numpy as np``.

Everything numpy has is here (``np.random``, ``np.zeros``, ``np.c_``, ...). The functions
that can be differentiated (``mean sum dot matmul tanh exp log sqrt ...``) record their
work on the tape when any argument is a ``fastgrad.Tensor`` and behave exactly as numpy's
otherwise; ``array`` and ``stack`` accept lists that contain Tensors. Code written
against ``autograd.numpy`` runs after changing only its import lines. (Plain ``numpy``
works on Tensors as well, through numpy's dispatch protocols; this module skips that
dispatch and says what is differentiable.)
"""
import numpy as _np
from numpy import *  # noqa: F401,F403  (the whole numpy namespace)
from numpy import random, linalg, fft  # noqa: F401  (subpackages `import *` leaves out)

from . import _tensor
from ._tensor import Tensor as _Tensor

_DIFFERENTIABLE = ["add", "subtract", "multiply", "divide", "true_divide", "power",
                   "maximum", "minimum", "negative", "square", "matmul", "dot", "sum",
                   "mean", "max", "min", "amax", "amin", "reshape", "transpose", "squeeze",
                   "expand_dims", "concatenate", "stack", "where", "clip", "tanh", "exp",
                   "log", "sqrt", "abs", "absolute", "sin", "cos"]


def _has_tensor(args):
    for a in args:
        if isinstance(a, _Tensor):
            return True
        if isinstance(a, (list, tuple)) and _has_tensor(a):
            return True
    return False


def _swap(name, ours):
    theirs = getattr(_np, name)

    def function(*args, **kwargs):
        # the first argument decides quickly; the rest only when it is not a Tensor
        if args and (type(args[0]) is _Tensor or _has_tensor(args)):
            return ours(*args, **kwargs)
        return theirs(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``numpy.{name}``, recorded on the tape when an argument is a "
                        f"fastgrad Tensor.\n\n" + (theirs.__doc__ or ""))
    return function


def _swap_unary(name):
    theirs = getattr(_np, name)
    code = "abs" if name == "absolute" else name

    def function(x, *args, **kwargs):
        if type(x) is _Tensor and not args and not kwargs:
            return _tensor.unary(code, x)
        return theirs(x, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``numpy.{name}``, recorded on the tape when given a fastgrad "
                        f"Tensor.\n\n" + (theirs.__doc__ or ""))
    return function


def _swap_reduction(name, method):
    theirs = getattr(_np, name)

    def function(a, axis=None, *args, keepdims=False, **kwargs):
        if type(a) is _Tensor and not args and not kwargs:
            return method(a, axis, keepdims)
        return theirs(a, axis, *args, keepdims=keepdims, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``numpy.{name}``, recorded on the tape when given a fastgrad "
                        f"Tensor.\n\n" + (theirs.__doc__ or ""))
    return function


_OURS = {"true_divide": _tensor.divide, "amax": _tensor.max, "amin": _tensor.min}
_REDUCTIONS = {"sum": _Tensor.sum, "mean": _Tensor.mean, "max": _Tensor.max,
               "min": _Tensor.min, "amax": _Tensor.max, "amin": _Tensor.min}
for _name in _DIFFERENTIABLE:
    if _name in ("tanh", "exp", "log", "sqrt", "abs", "absolute", "sin", "cos"):
        globals()[_name] = _swap_unary(_name)
    elif _name in _REDUCTIONS:
        globals()[_name] = _swap_reduction(_name, _REDUCTIONS[_name])
    else:
        globals()[_name] = _swap(_name, _OURS.get(_name) or getattr(_tensor, _name))
del _name


def array(obj, *args, **kwargs):  # type: ignore[no-redef]  # replaces numpy's
    """``numpy.array``; a (nested) list holding Tensors becomes a Tensor on the tape."""
    if isinstance(obj, _Tensor):
        return obj
    if isinstance(obj, (list, tuple)) and _has_tensor(obj):
        return _tensor.stack([array(o) if isinstance(o, (list, tuple)) else o for o in obj])
    return _np.array(obj, *args, **kwargs)
