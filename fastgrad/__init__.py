"""fastgrad: reverse-mode automatic differentiation with a compiled tape.

The front ends record operations on a tape: ``Value`` (scalars, micrograd's API),
``Tensor`` (numpy arrays, PyTorch's ``backward()``) and ``grad`` (functions, HIPS
autograd's API). The compiled core (``fastgrad._scalar`` and ``fastgrad._tensor``, built
from ``src_cython/``) sweeps the tape backwards; gradients come out on the leaves.
"""
from ._scalar import Tape, Value, current_tape
from ._tensor import (Tensor, concatenate, cross_entropy, is_grad_enabled, linear,
                      log_softmax, maximum, minimum, mse_loss, no_grad, set_grad_enabled,
                      softmax, stack, where)
from .functional import grad, value_and_grad
from . import functions as _functions
from .functions import *  # noqa: F401,F403  (tanh, sin, ...: one per scalar op-table row)

# Imported on first use, so that `import fastgrad` stays cheap.
_LAZY = {"nn": ".nn", "optim": ".optim", "datasets": ".datasets", "viz": ".viz",
         "reference": ".reference", "draw_dot": ".viz", "to_dot": ".viz",
         "tape_table": ".viz", "Function": ".function", "trace": ".function",
         "load_function": ".function", "BranchChanged": ".function"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(_LAZY[name], __name__)
        value = getattr(module, name) if _LAZY[name] != "." + name else module
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastgrad' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))

__version__ = "0.1.0"

__all__ = [
    "Value", "Tape", "current_tape",
    "Tensor", "no_grad", "is_grad_enabled", "set_grad_enabled",
    "grad", "value_and_grad",
    *_functions.__all__,
    "softmax", "log_softmax", "mse_loss", "cross_entropy", "linear", "concatenate", "stack",
    "where", "maximum", "minimum",
    "nn", "optim", "datasets", "draw_dot", "to_dot", "tape_table",
    "Function", "trace", "load_function", "BranchChanged",
]
