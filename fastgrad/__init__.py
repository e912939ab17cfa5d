"""fastgrad: reverse-mode automatic differentiation with a compiled tape.

The front ends record operations on a tape: ``Value`` (scalars, micrograd's API),
``Tensor`` (numpy arrays, PyTorch's ``backward()``) and ``grad`` (functions, HIPS
autograd's API). The compiled core (``fastgrad._scalar`` and ``fastgrad._tensor``, built
from ``src_cython/``) sweeps the tape backwards; gradients come out on the leaves.
"""
try:
    from ._scalar import Tape, Value, current_tape
except ModuleNotFoundError as _exc:                 # numpy's "source directory" guard
    if _exc.name not in (__name__ + "._scalar", __name__ + "._tensor"):
        raise
    import os as _os
    _here = _os.path.dirname(_os.path.abspath(__file__))
    if _os.path.isdir(_os.path.join(_here, _os.pardir, "src_cython")):
        raise ImportError(
            f"fastgrad is being imported from its source tree ({_here}), which has no "
            "compiled modules (fastgrad._scalar, fastgrad._tensor), so it shadows the "
            "installed fastgrad. Either run Python from another directory, or build the "
            "compiled modules in place with `pip install -e .` in the source tree."
        ) from None
    raise ImportError(
        f"fastgrad's compiled modules (fastgrad._scalar, fastgrad._tensor) are missing from "
        f"{_here}: the installation is incomplete; reinstall it (pip install "
        "--force-reinstall fastgrad)") from None
from ._tensor import (Tensor, concatenate, cross_entropy, is_grad_enabled, linear,
                      log_softmax, maximum, minimum, mse_loss, no_grad, set_grad_enabled,
                      softmax, stack, where)
from .functional import (checkpoint, deriv, elementwise_grad, grad, grad_and_aux,
                         grad_named, hessian, hessian_tensor_product,
                         hessian_vector_product, holomorphic_grad, jacobian, make_ggnvp,
                         make_hvp, make_jvp, make_vjp, multigrad_dict,
                         tensor_jacobian_product, value_and_grad, vector_jacobian_product)
from . import ops as _ops  # noqa: F401  (the registry rows written in Python)
from . import functions as _functions
from .functions import *  # noqa: F401,F403  (tanh, sin, ...: one per scalar op-table row)

# Imported on first use, so that `import fastgrad` stays cheap.
_LAZY = {"nn": ".nn", "optim": ".optim", "datasets": ".datasets", "viz": ".viz",
         "reference": ".reference", "draw_dot": ".viz", "to_dot": ".viz",
         "tape_table": ".viz", "Function": ".function", "trace": ".function",
         "load_function": ".function", "BranchChanged": ".function",
         # autograd's container helpers (fastgrad.builtins), as autograd's top level has
         # them; attributes only, left out of __all__ so `import *` shadows no builtin
         "dict": ".builtins", "isinstance": ".builtins", "list": ".builtins",
         "tuple": ".builtins", "type": ".builtins"}


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
    "grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian",
    "hessian_tensor_product", "hessian_vector_product", "make_vjp", "make_jvp", "make_hvp",
    "make_ggnvp", "deriv", "holomorphic_grad", "grad_named", "multigrad_dict",
    "checkpoint", "grad_and_aux", "tensor_jacobian_product", "vector_jacobian_product",
    *_functions.__all__,
    "softmax", "log_softmax", "mse_loss", "cross_entropy", "linear", "concatenate", "stack",
    "where", "maximum", "minimum",
    "nn", "optim", "datasets", "draw_dot", "to_dot", "tape_table",
    "Function", "trace", "load_function", "BranchChanged",
]
