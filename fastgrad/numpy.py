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
import sys as _sys
import types as _types

import numpy as _np
from numpy import *  # noqa: F401,F403  (the whole numpy namespace)
from numpy import random  # noqa: F401  (a subpackage `import *` leaves out)

from . import _tensor, ops  # noqa: F401  (ops: registers the rows written in Python)
from ._tensor import Tensor as _Tensor


def _has_tensor(args):
    for a in args:
        if isinstance(a, _Tensor):
            return True
        if isinstance(a, (list, tuple)) and _has_tensor(a):
            return True
    return False


def _swap(name, theirs, ours):
    def function(*args, **kwargs):
        # the first argument decides quickly; the rest only when it is not a Tensor
        if args and (type(args[0]) is _Tensor or _has_tensor(args)) or (
                kwargs and _has_tensor(kwargs.values())):
            return ours(*args, **kwargs)
        return theirs(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``numpy.{name}``, recorded on the tape when an argument is a "
                        f"fastgrad Tensor.\n\n" + (theirs.__doc__ or ""))
    return function


def _namespace(module):
    """A copy of a numpy subpackage (``numpy.linalg``) to swap functions into."""
    ns = _types.ModuleType(f"{__name__}.{module.__name__.split('.')[-1]}", module.__doc__)
    ns.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    _sys.modules[ns.__name__] = ns
    return ns


linalg = _namespace(_np.linalg)
fft = _namespace(_np.fft)
_SPACES = {"": _np, "linalg.": _np.linalg, "fft.": _np.fft}
_OURS = {"": globals(), "linalg.": vars(linalg), "fft.": vars(fft)}

#: The numpy functions and ufuncs swapped in (``linalg.inv`` for those of a
#: subpackage): every one the engine's dispatch tables hold (``fastgrad._tensor.FUNCTIONS``
#: and ``UFUNCS``: the registry rows' front ends, and the constant functions). Adding a
#: row with a numpy name adds it here; nothing to edit.
DIFFERENTIABLE = []
_targets = {id(k): v for table in (_tensor.FUNCTIONS, _tensor.UFUNCS) for k, v in table.items()}
for _prefix, _space in _SPACES.items():
    for _name, _obj in list(vars(_space).items()):
        if not _name.startswith("_") and id(_obj) in _targets and callable(_obj):
            _OURS[_prefix][_name] = _swap(_name, _obj, _targets[id(_obj)])
            DIFFERENTIABLE.append(_prefix + _name)
DIFFERENTIABLE.sort()
del _prefix, _space, _name, _obj, _targets
# autograd.numpy.linalg's helpers that code written for autograd calls (T, _dot)
vars(linalg).update(ops.linalg.AUTOGRAD_HELPERS)


def array(obj, *args, **kwargs):  # type: ignore[no-redef]  # replaces numpy's
    """``numpy.array``; a (nested) list holding Tensors becomes a Tensor on the tape."""
    if isinstance(obj, _Tensor):
        return obj
    if isinstance(obj, (list, tuple)) and _has_tensor(obj):
        return _tensor.array_of(obj)
    return _np.array(obj, *args, **kwargs)


from .ops.shapes import make_diagonal  # noqa: E402,F401  (autograd.numpy has it)


class _Concatenator:
    """``numpy.r_`` / ``numpy.c_``: with a Tensor among the items, a Tensor on the tape
    (numpy's rules: slices as ranges, ``1j`` steps as linspace, scalars, the leading
    directive ``"axis[,ndmin[,trans1d]]"``; the matrix directives ``"r"``/``"c"`` raise
    NotImplementedError); without Tensors, numpy's own result."""

    def __init__(self, theirs, axis, ndmin, trans1d):
        self._theirs = theirs
        self._axis, self._ndmin, self._trans1d = axis, ndmin, trans1d

    def __len__(self):
        return 0

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _has_tensor(items):
            return self._theirs[key]
        axis, ndmin, trans1d = self._axis, self._ndmin, self._trans1d
        objs, kinds = [], []
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    raise NotImplementedError(f"{type(self).__name__}: the matrix directive "
                                              f"{item!r} with Tensors (numpy.matrix)")
                try:
                    vec = [int(v) for v in item.split(",")]
                except ValueError:
                    raise ValueError(f"unknown special directive {item!r}") from None
                axis = vec[0]
                if len(vec) > 1:
                    ndmin = vec[1]
                if len(vec) > 2:
                    trans1d = vec[2]
                continue
            if isinstance(item, slice):
                new = _np.r_[item]                          # numpy's range
                if ndmin > 1:
                    new = _np.array(new, ndmin=ndmin)
                    if trans1d != -1:
                        new = new.swapaxes(-1, trans1d)
            elif type(item) in _np.ScalarType:
                objs.append(item)
                kinds.append(item)                         # weak: no up-cast
                continue
            else:
                new = array(item)
                shape = shape_ = _np.shape(new)
                if len(shape) < ndmin:
                    shape_ = (1,) * (ndmin - len(shape)) + shape
                    new = reshape(new, shape_)
                    if trans1d != -1:
                        k2, k1 = ndmin - len(shape), trans1d
                        if k1 < 0:
                            k1 += k2 + 1
                        axes = list(range(ndmin))
                        new = transpose(new, axes[:k1] + axes[k2:] + axes[k1:k2])
            objs.append(new)
            kinds.append(new.dtype)
        dtype = _np.result_type(*kinds)
        objs = [_np.array(o, ndmin=ndmin, dtype=dtype) if type(o) in _np.ScalarType
                else o for o in objs]
        return concatenate(objs, axis=axis)


r_ = _Concatenator(_np.r_, 0, 1, -1)  # type: ignore[misc,assignment]  # replaces numpy's
c_ = _Concatenator(_np.c_, -1, 2, 0)  # type: ignore[misc,assignment]


_np_where = _np.where
_recorded_where = _OURS[""].get("where")        # the swapped-in one: the registry's row


def _is_numpy_or_tensor(items):
    # (numpy's `any` shadows the builtin in this module: a loop)
    for x in items:
        if isinstance(x, (_Tensor, _np.ndarray, _np.generic)) or (
                isinstance(x, (list, tuple)) and _is_numpy_or_tensor(x)):
            return True
    return False


def where(condition, *args, **kwargs):  # type: ignore[no-redef]  # replaces numpy's
    """``numpy.where``; recorded on the tape when an argument is a fastgrad Tensor.

    As autograd's: ``where(condition)`` gives the indices of the true elements (of a
    Tensor's value: they are not differentiable); ``x`` and ``y`` may be given by
    keyword; when no argument is an ndarray, a numpy scalar or a Tensor (only Python
    numbers and lists), the result is Python's too (``1``, ``2.0``, ``[1, 4]``: numpy's
    result's ``tolist()``) rather than a numpy one.
    """
    unknown = set(kwargs) - {"x", "y"}
    if unknown:
        raise TypeError(f"where() got unexpected keyword argument(s) {sorted(unknown)}")
    if not args and not kwargs:
        return _np_where(_tensor.value_of(condition) if isinstance(condition, _Tensor)
                         else condition)
    if len(args) + len(kwargs) != 2 or len(args) > 2 or (args and "x" in kwargs):
        raise ValueError("where: give both x and y (by position or as x=, y=), or neither")
    x = args[0] if args else kwargs["x"]
    y = args[1] if len(args) > 1 else kwargs["y"]
    if _has_tensor((condition, x, y)):
        return _recorded_where(condition, x, y)
    result = _np_where(condition, x, y)
    if _is_numpy_or_tensor((condition, x, y)):
        return result
    return result.tolist()


# ---- integer casts: constants, as in autograd ------------------------------------------

class _IntegerCastMeta(type):
    # isinstance and issubclass answer as for the numpy type the cast stands for, so
    # ``isinstance(numpy.int64(3), np.int64)`` stays true
    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._numpy_type)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._numpy_type)


def _integer_cast(numpy_type):
    def __new__(cls, *args, **kwargs):
        args = tuple(_tensor.value_of(a) if isinstance(a, _Tensor) else a for a in args)
        return numpy_type(*args, **kwargs)

    doc = (f"``numpy.{numpy_type.__name__}``; on a Tensor it casts the Tensor's value: an "
           "integer result is a constant (it has no derivative), as in autograd, e.g. "
           "indices computed from a differentiated array.")
    return _IntegerCastMeta(numpy_type.__name__, (numpy_type,),
                            {"__new__": __new__, "_numpy_type": numpy_type,
                             "__doc__": doc, "__module__": __name__})


#: the integer types autograd's numpy makes casts of constants (its ``int_types``)
INTEGER_CASTS = ("int8", "int16", "int32", "int64", "integer")
for _name in INTEGER_CASTS:
    globals()[_name] = _integer_cast(getattr(_np, _name))
del _name
