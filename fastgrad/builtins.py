"""autograd's container helpers (``autograd.builtins``), for code written against them.

fastgrad differentiates a list, tuple or dict argument leaf by leaf (the containers stay
ordinary Python containers; only their numbers become Tensors), so ``list``, ``tuple``
and ``dict`` are the built-in types themselves, and building a container of values that
are being differentiated needs nothing special. ``isinstance`` and ``type`` see through
a Tensor to the kind of value it stands for (an ``ndarray``; a 0-d one also counts as a
float), as autograd's see through its boxes.
"""
import builtins as _builtins

import numpy as _np

from ._tensor import Tensor as _Tensor

__all__ = ["isinstance", "type", "list", "tuple", "dict"]

list = _builtins.list
tuple = _builtins.tuple
dict = _builtins.dict


def isinstance(obj, classinfo):
    """``builtins.isinstance``, with a Tensor taken as the ndarray (or float) it holds."""
    if _builtins.isinstance(obj, _Tensor) and not _is_tensor_class(classinfo):
        data = _np.asarray(obj.data)
        return (_builtins.isinstance(data, classinfo)
                or (data.ndim == 0 and _builtins.isinstance(data[()], classinfo)))
    return _builtins.isinstance(obj, classinfo)


def _is_tensor_class(classinfo):
    if _builtins.isinstance(classinfo, _builtins.tuple):
        return any(_is_tensor_class(c) for c in classinfo)
    return classinfo is _Tensor


def type(obj):
    """``builtins.type``, with a Tensor taken as the ndarray it holds."""
    if _builtins.isinstance(obj, _Tensor):
        return _np.ndarray
    return _builtins.type(obj)
