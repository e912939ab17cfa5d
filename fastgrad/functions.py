"""Elementwise functions that accept a Value, a Tensor, a number or an ndarray.

``fastgrad.tanh(x)`` calls ``x.tanh()`` on anything that has that method (``Value``,
``Tensor``, ``fastgrad.reference.Value``); on a plain number it evaluates the compiled
scalar op table's rule and on an ndarray the tensor op table's forward rule, so every
input goes through the same formula as its recorded counterpart.
"""
import numbers

import numpy as np

from . import _scalar, _tensor

__all__ = sorted(_scalar.UNARY_OPS)


def _elementwise(name):
    def function(x):
        method = getattr(type(x), name, None)
        if method is not None and not isinstance(x, (numbers.Number, np.ndarray)):
            return method(x)
        if isinstance(x, numbers.Real):
            return _scalar.apply_unary(name, float(x))[0]
        if isinstance(x, (np.ndarray, list, tuple)):
            return _tensor.unary_array(name, x)
        raise TypeError(f"fastgrad.{name}() takes a Value, a Tensor, a real number or an "
                        f"array, got {type(x).__name__}")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``{name}`` of a Value or Tensor (recorded on its tape), of a real "
                        f"number (a float) or of an array (an ndarray).")
    return function


tanh = _elementwise("tanh")
relu = _elementwise("relu")
sigmoid = _elementwise("sigmoid")
exp = _elementwise("exp")
log = _elementwise("log")
sin = _elementwise("sin")
cos = _elementwise("cos")
sqrt = _elementwise("sqrt")
abs = _elementwise("abs")
