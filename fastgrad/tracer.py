"""autograd's ``tracer`` names that code written for autograd imports.

In autograd a value being differentiated is wrapped in a ``Box``; in fastgrad it is a
``Tensor`` (of the differentiation's level), so ``isbox`` asks whether a value is one.
``primitive`` is ``fastgrad.extend.primitive``.
"""
from ._tensor import Tensor as _Tensor
from .extend import primitive

__all__ = ["isbox", "primitive"]


def isbox(x):
    """Whether ``x`` is a Tensor (autograd: a Box), i.e. possibly being differentiated."""
    return isinstance(x, _Tensor)
