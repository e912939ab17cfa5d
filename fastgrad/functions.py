"""Elementwise functions that accept a Value, a Tensor, a number or an ndarray.

Generated from the compiled scalar engine's op table: every row with a method name
(``fastgrad._scalar.UNARY_OPS``) becomes a function here, ``fastgrad.tanh`` and friends.
``fastgrad.tanh(x)`` calls ``x.tanh()`` on anything that has that method (``Value``,
``Tensor``, ``fastgrad.reference.Value``); on a plain number it evaluates the scalar op
table's rule and on an ndarray (or a list) the tensor engine's forward rule, so every
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
    function.__module__ = __name__
    function.__doc__ = (f"``{name}`` of a Value or Tensor (recorded on its tape), of a real "
                        f"number (a float) or of an array (an ndarray).\n\n"
                        f"{getattr(_scalar.Value, name).__doc__ or ''}")
    return function


globals().update({_name: _elementwise(_name) for _name in __all__})
