"""fastgrad: reverse-mode automatic differentiation with a compiled tape.

The front ends (this package) record operations on a tape; the compiled core
(``fastgrad._scalar``, built from ``src_cython/``) sweeps the tape backwards; gradients
come out on the leaves.
"""
from ._scalar import Tape, Value, current_tape
from .functions import abs, cos, exp, log, relu, sigmoid, sin, sqrt, tanh

__version__ = "0.1.0"

__all__ = [
    "Value", "Tape", "current_tape",
    "tanh", "relu", "sigmoid", "exp", "log", "sin", "cos", "sqrt", "abs",
]
