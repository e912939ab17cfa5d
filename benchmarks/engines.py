"""The engines under benchmark, behind one small adapter each, and the scalar chain.

Every workload is written once, against the handful of things an engine must offer: a
``Value`` class (``Value(float)``, ``+ - *`` with Values and numbers, ``.relu()``,
``.data`` and ``.grad`` read and written), a ``tanh`` function and a ``backward`` function.
Three engines provide them:

``fastgrad``
    ``fastgrad.Value``, the compiled tape.
``reference``
    ``fastgrad.reference.Value``, the pure-Python engine with the same API.
``micrograd``
    ``micrograd.engine.Value`` from ``pip install micrograd==0.1.0``. It has no ``tanh``;
    the adapter adds one in micrograd's own style (a node with a ``_backward`` closure, as
    in the micrograd lecture). Its ``backward`` sorts the graph recursively, one Python
    frame per node of depth, so the adapter raises the recursion limit for the call.

An engine that cannot be imported raises ``EngineUnavailable`` with the reason; the
pytest fixture turns that into a skip.
"""
import math
import sys
from dataclasses import dataclass
from typing import Callable

ENGINE_NAMES = ("fastgrad", "reference", "micrograd")

#: micrograd's recursive topological sort needs one frame per node of graph depth; the
#: 3e5-node chain is 3e5 deep. CPython >= 3.11 runs Python-to-Python calls without C
#: recursion, so a high limit costs only memory for the frames.
MICROGRAD_RECURSION_LIMIT = 1_000_000


class EngineUnavailable(Exception):
    """The engine cannot be imported here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Engine:
    """What a workload needs from an engine.

    Attributes
    ----------
    name : str
        ``"fastgrad"``, ``"reference"`` or ``"micrograd"``.
    Value : type
        The engine's scalar class.
    tanh : callable
        ``tanh(x)`` records ``tanh`` of the Value ``x``.
    backward : callable
        ``backward(root)`` runs the reverse sweep from ``root``.
    note : str
        Anything the adapter adds to the engine, for the report.
    """

    name: str
    Value: type
    tanh: Callable
    backward: Callable
    note: str = ""

    def __repr__(self):
        return f"Engine({self.name!r})"


def _fastgrad():
    try:
        import fastgrad
    except ImportError as exc:
        raise EngineUnavailable(f"fastgrad is not importable: {exc}") from exc
    V = fastgrad.Value
    return Engine("fastgrad", V, V.tanh, V.backward)


def _reference():
    try:
        from fastgrad import reference
    except ImportError as exc:
        raise EngineUnavailable(
            f"fastgrad.reference (the pure-Python engine) is not importable: {exc}") from exc
    V = reference.Value
    return Engine("reference", V, V.tanh, V.backward)


def _micrograd():
    try:
        from micrograd.engine import Value
    except ImportError as exc:
        raise EngineUnavailable(
            "micrograd is not installed: pip install micrograd==0.1.0 "
            f"(or fastgrad[bench]) to add it to the comparison ({exc})") from exc

    def tanh(x):
        # micrograd 0.1.0 has no tanh: this is the lecture's, in the engine's own idiom
        t = math.tanh(x.data)
        out = Value(t, (x,), "tanh")

        def _backward():
            x.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out

    def backward(root):
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, MICROGRAD_RECURSION_LIMIT))
        try:
            root.backward()
        finally:
            sys.setrecursionlimit(old)

    return Engine("micrograd", Value, tanh, backward,
                  note="tanh added by the adapter (micrograd 0.1.0 has none); "
                       f"recursion limit raised to {MICROGRAD_RECURSION_LIMIT} in backward")


_LOADERS = {"fastgrad": _fastgrad, "reference": _reference, "micrograd": _micrograd}


def load(name):
    """The ``Engine`` called ``name``; ``EngineUnavailable`` if it cannot be imported."""
    return _LOADERS[name]()


# ---- workload 1: the scalar chain ---------------------------------------------------------

NODES_PER_REPEAT = 3        # x * a, + b, tanh


def chain_leaves(engine):
    """The leaves of a chain: ``(a, b, x0)``."""
    V = engine.Value
    return V(0.9), V(0.1), V(0.5)


def build_chain(tanh, a, b, x, repeats):
    """``x = tanh(x * a + b)``, ``repeats`` times: ``3 * repeats`` recorded nodes."""
    for _ in range(repeats):
        x = tanh(x * a + b)
    return x
