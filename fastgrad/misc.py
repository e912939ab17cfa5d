"""autograd's ``misc.flatten``: a nested structure of arrays as one vector and back.

``flatten(value)`` returns ``(vector, unflatten)``: the leaves of a nested structure of
lists, tuples and dicts (numbers and arrays) raveled and concatenated into one 1-D
array, and the function that turns such a vector back into the structure. Both
directions are differentiable: flattening a structure of Tensors gives a Tensor, and
``unflatten`` of a Tensor gives Tensors, so optimisers written for one parameter vector
work on nested parameters.
"""
from .functional import _flatten

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
        ``unflatten(vector)`` rebuilds the structure: each leaf in its shape and, for
        plain values, its floating dtype (a numpy scalar for a 0-d leaf).
    """
    return _flatten(value)


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
