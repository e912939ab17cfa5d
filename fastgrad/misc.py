"""autograd's ``misc.flatten``: a nested structure of arrays as one vector and back.

``flatten(value)`` returns ``(vector, unflatten)``: the leaves of a nested structure of
lists, tuples and dicts (numbers and arrays) raveled and concatenated into one 1-D
array, and the function that turns such a vector back into the structure. Both
directions are differentiable: flattening a structure of Tensors gives a Tensor, and
``unflatten`` of a Tensor gives Tensors, so optimisers written for one parameter vector
work on nested parameters.
"""
import numpy as _np

from . import numpy as _fnp
from ._tensor import Tensor as _Tensor
from .functional import _shape_dtype, _tree_map

__all__ = ["flatten", "flatten_func"]


def flatten(value):
    """``(vector, unflatten)`` for a nested structure of numbers and arrays.

    Parameters
    ----------
    value : number, ndarray, Tensor, or nested lists/tuples/dicts of them
        Dicts are taken in their key order.

    Returns
    -------
    vector : ndarray or Tensor
        Every leaf raveled, concatenated in structure order (1-D; empty for no leaves).
    unflatten : callable
        ``unflatten(vector)`` rebuilds the structure: each leaf reshaped to its shape (a
        number for a number leaf given a plain vector).
    """
    leaves = []
    _tree_map(leaves.append, value)
    parts = [_fnp.reshape(leaf, (-1,)) for leaf in leaves]
    if not parts:
        vector = _np.zeros(0)
    elif any(isinstance(p, _Tensor) for p in parts):
        vector = _fnp.concatenate(parts)
    else:
        vector = _np.concatenate(parts)
    shapes = [_shape_dtype(leaf)[0] for leaf in leaves]

    def unflatten(vector):
        pieces, start = [], 0
        for shape in shapes:
            size = int(_np.prod(shape))
            chunk = vector[start:start + size]
            pieces.append(_fnp.reshape(chunk, shape) if shape else chunk[0])
            start += size
        it = iter(pieces)
        return _tree_map(lambda _: next(it), value)

    return vector, unflatten


def flatten_func(func, example):
    """``func`` of a nested structure as a function of one flat vector.

    Returns
    -------
    flat_func : callable
        ``flat_func(vector, *args, **kwargs) = func(unflatten(vector), *args, **kwargs)``.
    unflatten : callable
    flat_example : ndarray
        ``example`` flattened.
    """
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kwargs):
        return func(unflatten(vector), *args, **kwargs)
    return flat_func, unflatten, flat_example
