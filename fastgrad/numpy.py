"""numpy with fastgrad's differentiable functions swapped in: ``import fastgrad.numpy as np``.

Everything numpy has is here (``np.random``, ``np.zeros``, ``np.c_``, ...). The functions
that can be differentiated (``mean sum dot matmul tanh exp log sqrt ...``) record their
work on the tape when any argument is a ``fastgrad.Tensor`` and behave exactly as numpy's
otherwise; ``array`` and ``stack`` accept lists that contain Tensors. Code written
against ``autograd.numpy`` runs after changing only its import lines. (Plain ``numpy``
works on Tensors as well, through numpy's dispatch protocols; this module skips that
dispatch and says what is differentiable.) The list of swapped-in functions,
``DIFFERENTIABLE``, is generated from the engine's registry (``fastgrad._tensor``).
"""
import numpy as _np
from numpy import *  # noqa: F401,F403  (the whole numpy namespace)
from numpy import random, linalg, fft  # noqa: F401  (subpackages `import *` leaves out)

from . import _tensor
from ._tensor import Tensor as _Tensor

#: The functions swapped in: every registry row's function names that numpy has
#: (``fastgrad._tensor.PRIMITIVES``, their ``fronts["function"]``), and the two
#: composites. Adding a row with a numpy name adds it here; nothing to edit.
DIFFERENTIABLE = sorted({name for row in _tensor.PRIMITIVES
                         for name in row.fronts["function"] if hasattr(_np, name)}
                        | {"dot", "square"})


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


for _name in DIFFERENTIABLE:
    globals()[_name] = _swap(_name, getattr(_tensor, _name))
del _name


def array(obj, *args, **kwargs):  # type: ignore[no-redef]  # replaces numpy's
    """``numpy.array``; a (nested) list holding Tensors becomes a Tensor on the tape."""
    if isinstance(obj, _Tensor):
        return obj
    if isinstance(obj, (list, tuple)) and _has_tensor(obj):
        return _tensor.stack([array(o) if isinstance(o, (list, tuple)) else o for o in obj])
    return _np.array(obj, *args, **kwargs)
