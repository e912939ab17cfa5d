"""Elementwise functions that accept a Value (compiled or reference) or a number.

``fastgrad.tanh(x)`` calls ``x.tanh()`` on anything that has that method (``Value``,
``fastgrad.reference.Value``) and evaluates the compiled op table's rule on a plain number,
so a float and a Value go through the same formula.
"""
import numbers

from . import _scalar

__all__ = sorted(_scalar.UNARY_OPS)


def _elementwise(name):
    def function(x):
        method = getattr(type(x), name, None)
        if method is not None and not isinstance(x, numbers.Number):
            return method(x)
        if isinstance(x, numbers.Real):
            return _scalar.apply_unary(name, float(x))[0]
        raise TypeError(f"fastgrad.{name}() takes a Value or a real number, "
                        f"got {type(x).__name__}")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``{name}`` of a Value (recorded on its tape) or of a real number "
                        f"(returns a float).")
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
