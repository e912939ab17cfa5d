"""The scalar backends, behind one small adapter each, and the scalar chain.

A scalar workload is written once, against what an ``Engine`` offers. Two kinds:

*graph* engines record a graph as the code runs and sweep it with a separate call, so
building and the backward pass can be timed apart. They offer ``Value(float)`` (a leaf
that takes gradients), ``const(float)`` (an input), ``+ - *`` with numbers, ``.relu()``,
``tanh``, ``backward``, and ``zero_grad``/``sgd``/``item``/``grad_of`` for the training
step.

``fastgrad``
    ``fastgrad.Value``, the compiled tape.
``reference``
    ``fastgrad.reference.Value``, the pure-Python engine with the same API.
``micrograd``
    ``micrograd.engine.Value`` from ``pip install micrograd==0.1.0``. It has no ``tanh``;
    the adapter adds one in micrograd's own style (a node with a ``_backward`` closure, as
    in the micrograd lecture). Its ``backward`` sorts the graph recursively, one Python
    frame per node of depth, so the adapter raises the recursion limit for the call.
``torch``
    PyTorch eager on **0-d float64 tensors**: every scalar is a tensor of shape ``()``,
    leaves have ``requires_grad=True``, inputs do not. The same scalar graph, node for
    node, as the engines above (not a vectorised rewrite: that would be a tensor
    workload). ``backward()`` sweeps it.

*functional* engines differentiate a function: the graph exists only inside one call,
which records and sweeps it, so only "build + backward" can be timed.

``autograd``
    HIPS autograd's ``value_and_grad`` of a Python function of a list of floats, written
    with ``autograd.numpy`` on scalars (every op boxes a 0-d value). The relu is a Python
    branch (``v if v > 0 else 0.0``), autograd's idiom for scalar code.
``jax``
    Not run on the scalar workloads (``NOT_APPLICABLE`` says why); listed so the report
    shows the row and the reason.

The engines' names come from the registry (``backends.names("scalar")``). An engine that
cannot be imported raises ``EngineUnavailable`` with the reason (and the ``pip install``
that fixes it); the tests turn that into a skip the report lists.
"""
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

from .backends import EngineUnavailable, modules, names

ENGINE_NAMES = names("scalar")

#: micrograd's recursive topological sort needs one frame per node of graph depth; the
#: 3e5-node chain is 3e5 deep. CPython >= 3.11 runs Python-to-Python calls without C
#: recursion, so a high limit costs only memory for the frames.
MICROGRAD_RECURSION_LIMIT = 1_000_000

_JAX_SCALAR = ("N/A: JAX records no graph of Python scalars: eager jax.numpy sends every 0-d "
               "op to XLA on its own, and jit would compile the unrolled loop into one "
               "program as large as the graph; the idiomatic lax.scan version is a "
               "compiled loop, a different workload")

#: (workload, engine) pairs that are not run, with the reason shown in the report
NOT_APPLICABLE = {
    ("chain_build", "autograd"): "N/A: autograd's grad records and sweeps in one call; "
                                 "see chain build+backward",
    ("chain_backward", "autograd"): "N/A: autograd's grad records and sweeps in one call; "
                                    "see chain build+backward",
    ("chain_build", "jax"): _JAX_SCALAR,
    ("chain_backward", "jax"): _JAX_SCALAR,
    ("chain_build_backward", "jax"): _JAX_SCALAR,
    ("mlp_step", "jax"): _JAX_SCALAR,
    ("chain_memory", "autograd"): "N/A: autograd's graph lives only inside the grad call; "
                                  "there is no built graph to hold and measure",
    ("chain_memory", "jax"): _JAX_SCALAR,
}


def _zero_grad(params):
    for p in params:
        p.grad = 0.0


def _sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad


def _item(v):
    return float(v.data)


def _grad_of(v):
    return float(v.grad)


def _call_backward(root):
    root.backward()


@dataclass(frozen=True)
class Engine:
    """What a scalar workload needs from an engine.

    Attributes
    ----------
    name : str
        One of ``ENGINE_NAMES``.
    kind : str
        ``"graph"`` (build, then ``backward``) or ``"functional"`` (``value_and_grad``).
    tanh : callable
        ``tanh(x)`` of the engine's scalar.
    Value : callable, graph engines
        ``Value(float)``: a leaf that takes gradients.
    const : callable, graph engines
        ``const(float)``: an input (no gradient wanted).
    backward : callable, graph engines
        ``backward(root)`` runs the reverse sweep from ``root``.
    zero_grad, sgd, item, grad_of : callable, graph engines
        ``zero_grad(params)``; ``sgd(params, lr)``: ``p -= lr * p.grad``; ``item(v)`` and
        ``grad_of(v)``: a scalar's value and gradient as floats.
    value_and_grad : callable, functional engines
        ``value_and_grad(f)(list_of_floats) -> (value, list of gradients)``.
    relu : callable, functional engines
        ``relu(v)`` of the engine's scalar.
    note : str
        What the adapter adds to the engine, for the report.
    """

    name: str
    kind: str
    tanh: Callable
    Value: Optional[Callable] = None
    const: Optional[Callable] = None
    backward: Callable = _call_backward
    zero_grad: Callable = _zero_grad
    sgd: Callable = _sgd
    item: Callable = _item
    grad_of: Callable = _grad_of
    value_and_grad: Optional[Callable] = None
    relu: Optional[Callable] = None
    note: str = ""

    def __repr__(self):
        return f"Engine({self.name!r})"


def _fastgrad():
    fastgrad, _ = modules("fastgrad")
    V = fastgrad.Value
    return Engine("fastgrad", "graph", V.tanh, Value=V, const=V, backward=V.backward)


def _reference():
    fastgrad, _ = modules("fastgrad")
    V = fastgrad.reference.Value
    return Engine("reference", "graph", V.tanh, Value=V, const=V, backward=V.backward)


def _micrograd():
    Value = modules("micrograd").Value

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

    return Engine("micrograd", "graph", tanh, Value=Value, const=Value, backward=backward,
                  note="tanh added by the adapter (micrograd 0.1.0 has none); "
                       f"recursion limit raised to {MICROGRAD_RECURSION_LIMIT} in backward")


def _torch():
    torch = modules("torch")
    tensor, f64, no_grad = torch.tensor, torch.float64, torch.no_grad

    def leaf(x):
        return tensor(x, dtype=f64, requires_grad=True)

    def const(x):
        return tensor(x, dtype=f64)

    def zero_grad(params):
        for p in params:
            p.grad = None

    def sgd(params, lr):
        with no_grad():
            for p in params:
                p -= lr * p.grad

    return Engine("torch", "graph", torch.tanh, Value=leaf, const=const, zero_grad=zero_grad,
                  sgd=sgd, item=lambda v: v.item(), grad_of=lambda v: v.grad.item(),
                  note="0-d float64 tensors (one tensor per scalar: the same graph, node "
                       "for node); leaves requires_grad, inputs not; zero_grad sets "
                       ".grad = None")


def _autograd():
    autograd, anp = modules("autograd")

    def value_and_grad(f):
        vg = autograd.value_and_grad(f)

        def call(xs):
            value, grads = vg(xs)
            return float(value), [float(g) for g in grads]
        return call

    def relu(v):
        return v if v > 0 else 0.0      # a Python branch: autograd's idiom on scalars

    return Engine("autograd", "functional", anp.tanh, value_and_grad=value_and_grad,
                  relu=relu,
                  note="value_and_grad of a Python function of a list of floats; "
                       "autograd.numpy on scalars; relu as a Python branch; the figure "
                       "includes freeing the graph, which happens inside the call")


def _jax():
    modules("jax")
    raise EngineUnavailable(_JAX_SCALAR)


_LOADERS = {"fastgrad": _fastgrad, "reference": _reference, "micrograd": _micrograd,
            "torch": _torch, "autograd": _autograd, "jax": _jax}


def load(name):
    """The ``Engine`` called ``name``; ``EngineUnavailable`` if it cannot be imported."""
    return _LOADERS[name]()


def not_applicable(workload, name):
    """The reason engine ``name`` does not run ``workload``, or None."""
    return NOT_APPLICABLE.get((workload, name))


def engine_or_not_run(row, not_run):
    """The engine of ``row["backend"]`` for ``row["workload"]``; where it does not apply or
    is not installed, ``not_run`` records the row with the reason and skips the test."""
    name = row["backend"]
    reason = not_applicable(row["workload"], name)
    if reason:
        not_run(reason, "not applicable", **row)
    try:
        return load(name)
    except EngineUnavailable as exc:
        not_run(str(exc), "not installed", **row)


# ---- the scalar chain --------------------------------------------------------------------------

NODES_PER_REPEAT = 3        # x * a, + b, tanh
CHAIN_LEAVES = (0.9, 0.1, 0.5)      # a, b, x0


def chain_leaves(engine, leaves=CHAIN_LEAVES):
    """The leaves of a chain: ``(a, b, x0)``."""
    V = engine.Value
    return tuple(V(v) for v in leaves)


def build_chain(tanh, a, b, x, repeats):
    """``x = tanh(x * a + b)``, ``repeats`` times: ``3 * repeats`` recorded nodes."""
    for _ in range(repeats):
        x = tanh(x * a + b)
    return x


def chain_sampler(engine, repeats, leaves=CHAIN_LEAVES):
    """``sample(first)`` for ``harness.Campaign``: one chain of ``repeats`` repeats from
    fresh leaves.

    Graph engines: ``build`` and ``backward`` timed apart within the run, and
    ``build+backward`` their sum. Functional engines: ``build+backward`` only (one
    ``value_and_grad`` call). The outputs are the root's value and the three leaves'
    gradients. The graph is dropped after the sample, outside the timing.
    """
    clock = time.perf_counter
    if engine.kind == "functional":
        vg = engine.value_and_grad(
            lambda xs: build_chain(engine.tanh, xs[0], xs[1], xs[2], repeats))

        def sample(first):
            t0 = clock()
            value, grads = vg(list(leaves))
            t1 = clock()
            out = ({"root": value, "d/da": grads[0], "d/db": grads[1], "d/dx0": grads[2]}
                   if first else None)
            return {"build+backward": t1 - t0}, out
        return sample

    tanh, backward = engine.tanh, engine.backward

    def sample(first):
        a, b, x0 = chain_leaves(engine, leaves)
        t0 = clock()
        root = build_chain(tanh, a, b, x0, repeats)
        t1 = clock()
        backward(root)
        t2 = clock()
        g = engine.grad_of
        if g(a) == 0.0:
            raise AssertionError(f"{engine.name}: backward did not reach the leaf a")
        out = ({"root": engine.item(root), "d/da": g(a), "d/db": g(b), "d/dx0": g(x0)}
               if first else None)
        del root
        return {"build": t1 - t0, "backward": t2 - t1, "build+backward": t2 - t0}, out
    return sample
