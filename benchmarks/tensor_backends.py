"""The tensor workloads and their backends: one forward per shape, one step per kind.

Four workloads, each run by every backend of the ``tensor`` family that can be imported
(``not_applicable`` gives the reason for the rows that are not run):

``pulsar``
    One SGD step (lr 0.01) of the 8-25-10-2 tanh MLP of the pulsar notebook (seed 001):
    a batch of 100 rows of the unscaled features of ``pulsars_tuned.csv``, tanh on every
    layer (the last one too), MSE against one-hot targets, float64. The notebook's
    layout: ``W`` is (n_out, n_in), ``b`` is (n_out, 1), ``A = tanh(W @ A + b)`` on
    activations as columns (``A0 = X.T``). 50 batches are drawn once from a seeded
    generator and cycled.
``large_columns``
    The same formulation at scale (issue 17 item 15): one SGD step of a 784-512-512-10
    tanh MLP in the seed's orientation, one batch of 512 random columns, MSE on one-hot
    targets, float64.
``large``
    One SGD step of a 784-512-512-10 ReLU MLP on a batch of 512 random rows, softmax
    cross-entropy from logits against integer labels, float64 and float32. Layout
    ``X (batch, in) @ W (in, out) + b (out,)``.
``seed000``
    One gradient call of the two-layer net of seed 000 (``act(v) = 2 v``, mean squared
    error) with respect to the whole list ``[x, w1, w1b, w2, w2b, y]``.

Each workload has one *shape* of model: ``columns`` (pulsar, large_columns), ``rows``
(large) or the seed-000 net. A shape's forward pass is written once (``FORWARD``,
``seed000_forward``) against a backend's ``Ops``, and the backends come in three kinds,
one step code each:

*functional* (``fastgrad.grad``, ``autograd``, ``jax``)
    ``value_and_grad`` of the forward written on the backend's numpy module
    (``fastgrad.numpy``, ``autograd.numpy``, ``jax.numpy``), then a new list
    ``w - lr * g``; JAX compiles the whole step with ``jax.jit`` (in the warm-up),
    float64 enabled, every timed call waiting for its results.
*tape* (``fastgrad.Tensor``, ``torch``)
    Parameters as leaves, the forward with the library's own functions
    (``fastgrad.linear``/``mse_loss``/``cross_entropy``, ``torch.nn.functional``), the
    gradients by a reverse sweep (``backward()`` and ``.grad``;
    ``torch.autograd.grad``), SGD in place.
*floor* (``numpy``)
    The forward and backward pass written out by hand: no autodiff, the floor.

``reference`` and ``micrograd`` are scalar engines: their rows say why they are not run.
Batches are gathered once, before any timing, and handed to every backend as its own
arrays (``torch.from_numpy``, ``jnp.asarray``): the step times the step.

Given a dict ``out``, a step also leaves its loss and gradients in it (as ndarrays) for
the cross-check, so the code that is checked is the code that is timed. A backend that
cannot be imported raises ``backends.EngineUnavailable``.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .backends import modules, names, require as _require_import

HERE = Path(__file__).resolve().parent

BACKENDS = names("tensor")

_SCALAR_ENGINE = ("N/A: a scalar engine (one graph node per float operation, no array "
                  "type); {why}")
_NOT_APPLICABLE = {
    "tensor_pulsar_step": "its cost on a scalar graph of this size (~1e5 nodes a step) is "
                          "what the MLP step row measures",
    "tensor_large_mlp_step": "one step is ~7e8 scalar nodes (784-512-512-10 on 512 rows)",
    "tensor_large_mlp_columns_step": "one step is ~7e8 scalar nodes (784-512-512-10 on "
                                     "512 columns)",
    "tensor_seed000_grad": "the call takes and returns arrays",
}


def not_applicable(workload, name):
    """The reason backend ``name`` does not run tensor ``workload``, or None."""
    if name in ("reference", "micrograd"):
        return _SCALAR_ENGINE.format(why=_NOT_APPLICABLE[workload])
    return None


def require(name):
    """Raise ``EngineUnavailable`` (with the reason) unless backend ``name`` can run."""
    if name in ("reference", "micrograd"):
        from . import engines
        engines.load(name)
    else:
        _require_import(name)


# ---- the backends: what each offers a forward pass -------------------------------------------

@dataclass
class Ops:
    """The operations a forward pass uses, for one backend.

    ``kind`` is ``functional``, ``tape`` or ``floor``. All kinds: ``tanh``, ``relu``,
    ``linear(x, W, b)`` (``x @ W + b``), ``mse(pred, target)``, ``xent(logits, labels)``
    and ``mean``. Functional: ``value_and_grad``, ``grad``, ``jit`` (None: no
    compilation), ``ready`` (waits for asynchronous results). Tape: ``leaf(w)`` (a new
    leaf holding a copy), ``view_leaf(a)`` (a leaf over the caller's array),
    ``gradients(loss, leaves)``, ``sgd(leaves, grads, lr)``. Both: ``asarray`` (a batch
    array as the backend takes it) and ``array`` (a result as an ndarray).
    """

    name: str
    kind: str
    tanh: Callable = None
    relu: Callable = None
    linear: Callable = None
    mse: Callable = None
    xent: Callable = None
    mean: Callable = None
    value_and_grad: Optional[Callable] = None
    grad: Optional[Callable] = None
    jit: Optional[Callable] = None
    ready: Callable = lambda tree: tree
    leaf: Optional[Callable] = None
    view_leaf: Optional[Callable] = None
    gradients: Optional[Callable] = None
    sgd: Optional[Callable] = None
    asarray: Callable = lambda a: a
    array: Callable = np.asarray


def _ready(jax):
    """Wait until JAX has computed a tree (its dispatch is asynchronous)."""
    wait = getattr(jax, "block_until_ready", None)
    if wait is not None:
        return wait

    def ready(tree):
        for leaf in jax.tree_util.tree_leaves(tree):
            leaf.block_until_ready()
        return tree
    return ready


def _functional(name):
    library = {"fastgrad.grad": "fastgrad", "autograd": "autograd", "jax": "jax"}[name]
    lib, anp = modules(library)
    rows = np.arange

    def xent(z, labels):
        shifted = z - anp.max(z, axis=1, keepdims=True)
        log_p = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_p[rows(len(labels)), labels])

    ops = Ops(name, "functional", tanh=anp.tanh, relu=lambda z: anp.maximum(z, 0.0),
              linear=lambda x, W, b: x @ W + b, mse=lambda p, t: anp.mean((p - t) ** 2),
              xent=xent, mean=anp.mean, value_and_grad=lib.value_and_grad, grad=lib.grad)
    if name == "jax":
        ops.jit, ops.ready, ops.asarray = lib.jit, _ready(lib), anp.asarray
    return ops


def _fastgrad_tensor():
    fastgrad, _ = modules("fastgrad")
    Tensor = fastgrad.Tensor

    def gradients(loss, leaves):
        loss.backward()
        return [t.grad for t in leaves]

    def sgd(leaves, grads, lr):
        for t, g in zip(leaves, grads):
            t.data -= lr * g
            t.grad = None

    # fastgrad.linear is what nn.Linear (and so nn.MLP) computes: x @ W + b as one op
    return Ops("fastgrad.Tensor", "tape", tanh=Tensor.tanh, relu=Tensor.relu,
               linear=fastgrad.linear, mse=fastgrad.mse_loss, xent=fastgrad.cross_entropy,
               mean=Tensor.mean, leaf=lambda w: Tensor(w.copy(), requires_grad=True),
               view_leaf=lambda a: Tensor(a, requires_grad=True), gradients=gradients,
               sgd=sgd, array=lambda t: t.data if isinstance(t, Tensor) else np.asarray(t))


def _torch():
    torch = modules("torch")
    F, no_grad = torch.nn.functional, torch.no_grad

    def sgd(leaves, grads, lr):
        with no_grad():
            for t, g in zip(leaves, grads):
                t -= lr * g

    return Ops("torch", "tape", tanh=torch.tanh, relu=torch.relu,
               linear=lambda x, W, b: x @ W + b, mse=F.mse_loss, xent=F.cross_entropy,
               mean=torch.mean, leaf=lambda w: torch.tensor(w, requires_grad=True),
               view_leaf=lambda a: torch.from_numpy(a).requires_grad_(),
               gradients=lambda loss, leaves: torch.autograd.grad(loss, leaves), sgd=sgd,
               asarray=torch.from_numpy, array=lambda t: t.detach().numpy())


def backend_ops(name):
    """The ``Ops`` of tensor backend ``name``; ``EngineUnavailable`` if it cannot run."""
    if name in ("fastgrad.grad", "autograd", "jax"):
        return _functional(name)
    if name == "fastgrad.Tensor":
        return _fastgrad_tensor()
    if name == "torch":
        return _torch()
    if name == "numpy":
        return Ops("numpy", "floor")
    require(name)
    raise ValueError(f"backend {name!r} runs no tensor workload")


# ---- the forward passes, one per shape -------------------------------------------------------

def columns_forward(ops, weights, X, Y):
    """The seed's layout: ``A = tanh(W @ A + b)`` from ``A = X`` (features, batch), on
    every layer, then MSE against ``Y`` (classes, batch)."""
    A = X
    for k in range(0, len(weights), 2):
        A = ops.tanh(weights[k] @ A + weights[k + 1])
    return ops.mse(A, Y)


def rows_forward(ops, weights, X, labels):
    """``relu(linear(h, W, b))`` on the hidden layers, cross-entropy of the logits."""
    h = X
    for k in range(0, len(weights) - 2, 2):
        h = ops.relu(ops.linear(h, weights[k], weights[k + 1]))
    return ops.xent(ops.linear(h, weights[-2], weights[-1]), labels)


def columns_floor(weights, batch, lr, out):
    """The columns step by hand; ``out`` as a step's (or None)."""
    X, Y = batch
    w = weights
    acts = [X]                                      # A0, A1, A2, A3
    for k in range(0, len(w), 2):
        acts.append(np.tanh(w[k] @ acts[-1] + w[k + 1]))
    diff = acts[-1] - Y
    delta = (2.0 / diff.size) * diff                # d loss / d A3
    grads = [None] * len(w)
    for k in range(len(w) - 2, -1, -2):
        A_out, A_in = acts[k // 2 + 1], acts[k // 2]
        dz = delta * (1.0 - A_out * A_out)          # through tanh
        grads[k] = dz @ A_in.T
        grads[k + 1] = dz.sum(axis=1, keepdims=True)
        if k:
            delta = w[k].T @ dz
    if out is not None:
        out["loss"] = float(np.mean(diff * diff))
        out["grads"] = [g.copy() for g in grads]
    for p, g in zip(w, grads):
        p -= lr * g


def rows_floor(weights, batch, lr, out):
    """The rows step by hand: a stable log-softmax and the backward pass."""
    X, labels = batch
    w = weights
    rows = np.arange(len(labels))
    acts = [X]                                      # X, h1, h2
    for k in range(0, len(w) - 2, 2):
        acts.append(np.maximum(acts[-1] @ w[k] + w[k + 1], 0.0))
    z = acts[-1] @ w[-2] + w[-1]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dz = np.exp(log_p)                              # softmax - one_hot, over n
    dz[rows, labels] -= 1.0
    dz /= len(rows)
    grads = [None] * len(w)
    for k in range(len(w) - 2, -1, -2):
        h = acts[k // 2]
        grads[k] = h.T @ dz
        grads[k + 1] = dz.sum(axis=0)
        if k:
            dz = (dz @ w[k].T) * (h > 0)            # through relu (h = relu(z) > 0 iff z > 0)
    if out is not None:
        out["loss"] = float(-log_p[rows, labels].mean())
        out["grads"] = [g.copy() for g in grads]
    for p, g in zip(w, grads):
        p -= lr * g


FORWARD = {"columns": columns_forward, "rows": rows_forward}
FLOOR = {"columns": columns_floor, "rows": rows_floor}


# ---- one training step, per kind of backend --------------------------------------------------

class Step:
    """One SGD step of backend ``ops`` on ``problem``, on the next of its batches.

    ``step(out=None)`` runs it; ``current_weights()`` gives the weights as ndarrays.
    """

    def __init__(self, ops, problem):
        self.ops, self.lr = ops, problem.lr
        self.batches = [tuple(ops.asarray(a) for a in b) for b in problem.batches()]
        self.i = 0
        forward = FORWARD[problem.shape]
        if ops.kind == "functional":
            self.weights = [ops.asarray(w) for w in problem.copy_weights()]
            vg, lr = ops.value_and_grad(lambda w, *batch: forward(ops, w, *batch)), self.lr

            def step(weights, *batch):
                value, grads = vg(weights, *batch)
                return [w - lr * g for w, g in zip(weights, grads)], value, grads
            self._functional = ops.jit(step) if ops.jit else step
            self.run = self._functional_step
        elif ops.kind == "tape":
            self.weights = [ops.leaf(w) for w in problem.weights]
            self.forward = forward
            self.run = self._tape_step
        else:
            self.weights = problem.copy_weights()
            self.floor = FLOOR[problem.shape]
            self.run = self._floor_step

    def _next(self):
        batch = self.batches[self.i]
        self.i = (self.i + 1) % len(self.batches)
        return batch

    def _functional_step(self, out):
        weights, loss, grads = self.ops.ready(self._functional(self.weights, *self._next()))
        self.weights = weights
        return loss, grads

    def _tape_step(self, out):
        ops, p = self.ops, self.weights
        loss = self.forward(ops, p, *self._next())
        grads = ops.gradients(loss, p)
        if out is not None:
            out["grads"] = [np.array(ops.array(g)) for g in grads]
        ops.sgd(p, grads, self.lr)
        return loss, None

    def _floor_step(self, out):
        self.floor(self.weights, self._next(), self.lr, out)
        return None, None

    def step(self, out=None):
        loss, grads = self.run(out)
        if out is not None and loss is not None:
            out["loss"] = float(np.asarray(self.ops.array(loss)))
            if grads is not None:
                out["grads"] = [np.array(g) for g in grads]

    def current_weights(self):
        return [np.array(self.ops.array(w)) for w in self.weights]


def make_step(name, problem):
    """A fresh ``Step`` of backend ``name`` at the problem's initial weights."""
    return Step(backend_ops(name), problem)


# ====================================================================================
# The problems: data, initial weights, batches, shared by every backend
# ====================================================================================

PULSAR_LAYERS = (8, 25, 10, 2)
PULSAR_BATCH = 100
PULSAR_LR = 0.01
PULSAR_BATCHES = 50             # drawn once, then cycled: every backend sees the same
PULSAR_SEED = 1
PULSAR_FILE = "pulsars_tuned.csv"


def pulsar_csv():
    """The path of ``pulsars_tuned.csv``, or ``(None, reason)`` when it is not found.

    Looked for where ``FASTGRAD_DATA`` points (the file or its folder), then in
    ``../shared/data/`` beside the project's root.
    """
    tried = []
    env = os.environ.get("FASTGRAD_DATA")
    if env:
        p = Path(env)
        tried.append(p / PULSAR_FILE if p.is_dir() else p)
    tried.append(HERE.parent.parent / "shared" / "data" / PULSAR_FILE)
    for p in tried:
        if p.is_file() and p.name == PULSAR_FILE:
            return p, ""
    return None, (f"{PULSAR_FILE} not found (tried {', '.join(str(p) for p in tried)}); "
                  "set FASTGRAD_DATA to the file or its folder")


def _column_weights(rng, layers):
    """``[W1, b1, ...]``: ``W`` (n_out, n_in), ``b`` (n_out, 1), from
    ``normal(0, 1/sqrt(n_in + n_out))``, as the pulsar notebook draws them."""
    weights = []
    for n_in, n_out in zip(layers, layers[1:]):
        scale = 1.0 / np.sqrt(n_in + n_out)
        weights.append(rng.normal(0.0, scale, (n_out, n_in)))
        weights.append(rng.normal(0.0, scale, (n_out, 1)))
    return weights


class PulsarProblem:
    """The data, the initial weights and the batches every backend shares (the columns
    shape: ``batches()`` gives ``(X[idx].T, Y[idx].T)``).

    Attributes
    ----------
    X : ndarray, (3278, 8) float64
        The features, not rescaled.
    Y : ndarray, (3278, 2) float64
        One-hot targets: column 0 for label 0, column 1 for label 1.
    weights : list of ndarray
        ``[W1, b1, W2, b2, W3, b3]``, ``W`` (n_out, n_in) and ``b`` (n_out, 1), drawn from
        ``normal(0, 1/sqrt(n_in + n_out))`` by a seeded generator.
    rows : ndarray, (50, 100) intp
        Row indices of the batches, drawn with replacement.
    """

    shape = "columns"
    lr = PULSAR_LR

    def __init__(self, path):
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        self.X = np.ascontiguousarray(table[:, :-1])
        label = table[:, -1].astype(np.intp)
        self.Y = np.zeros((len(label), 2))
        self.Y[np.arange(len(label)), label] = 1.0
        rng = np.random.default_rng(PULSAR_SEED)
        self.weights = _column_weights(rng, PULSAR_LAYERS)
        self.rows = rng.integers(0, len(label), (PULSAR_BATCHES, PULSAR_BATCH))

    def batches(self):
        """The batches as the columns shape takes them: ``(X[idx].T, Y[idx].T)``."""
        return [(self.X[idx].T, self.Y[idx].T) for idx in self.rows]

    def copy_weights(self):
        return [w.copy() for w in self.weights]


LARGE_LAYERS = (784, 512, 512, 10)
LARGE_BATCH = 512
LARGE_SEED = 2
LARGE_COLUMNS_SEED = 3
class LargeProblem:
    """The rows shape at scale: one batch of random inputs and labels, He-scaled weights.

    ``X`` is (512, 784), ``labels`` (512,) integers in [0, 10); the weights are
    ``[W1, b1, W2, b2, W3, b3]`` with ``W`` (n_in, n_out) and ``b`` (n_out,), all in
    ``dtype`` (drawn in float64, then cast, so both dtypes start from the same numbers).
    """

    shape = "rows"
    lr = 0.01

    def __init__(self, dtype):
        rng = np.random.default_rng(LARGE_SEED)
        self.dtype = np.dtype(dtype)
        self.X = rng.standard_normal((LARGE_BATCH, LARGE_LAYERS[0])).astype(self.dtype)
        self.labels = rng.integers(0, LARGE_LAYERS[-1], LARGE_BATCH)
        self.weights = []
        for n_in, n_out in zip(LARGE_LAYERS, LARGE_LAYERS[1:]):
            self.weights.append(rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out))
                                .astype(self.dtype))
            self.weights.append(rng.normal(0.0, 0.01, n_out).astype(self.dtype))

    def batches(self):
        return [(self.X, self.labels)]

    def copy_weights(self):
        return [w.copy() for w in self.weights]


class LargeColumnsProblem:
    """The columns shape at scale (the seed's orientation): ``X`` (784, 512) random
    normal columns, ``Y`` (10, 512) one-hot columns of random labels, ``W`` (n_out, n_in)
    and ``b`` (n_out, 1) from ``normal(0, 1/sqrt(n_in + n_out))`` as in the pulsar
    notebook; float64."""

    shape = "columns"
    lr = 0.01

    def __init__(self):
        rng = np.random.default_rng(LARGE_COLUMNS_SEED)
        self.X = rng.standard_normal((LARGE_LAYERS[0], LARGE_BATCH))
        labels = rng.integers(0, LARGE_LAYERS[-1], LARGE_BATCH)
        self.Y = np.zeros((LARGE_LAYERS[-1], LARGE_BATCH))
        self.Y[labels, np.arange(LARGE_BATCH)] = 1.0
        self.weights = _column_weights(rng, LARGE_LAYERS)

    def batches(self):
        return [(self.X, self.Y)]

    def copy_weights(self):
        return [w.copy() for w in self.weights]


# ====================================================================================
# The seed-000 gradient call
# ====================================================================================

def seed000_arrays():
    """``[x, w1, w1b, w2, w2b, y]`` with the notebook's numbers (fresh arrays)."""
    x = np.array([[0.3], [0.1], [0.5]])
    w1 = np.array([[0.3, 0.1, 0.2], [0.2, -0.1, -0.1], [0.7, 0.5, -0.3], [0.5, 0.5, -0.5]])
    w1b = np.array([[0.3], [0.2], [0.2], [0.3]])
    w2 = np.array([[0.2, 0.3, 0.1, 0.1], [0.7, -0.2, -0.1, 0.3]])
    w2b = np.array([[0.3], [-0.2]])
    y = np.array([[1.0], [0.0]])
    return [x, w1, w1b, w2, w2b, y]


#: What the notebook prints: the loss and the gradients, in the argument's order.
SEED000_LOSS = 0.623776
SEED000_GRADS = [
    [[1.46144], [0.9392], [0.03264]],
    [[0.9648, 0.3216, 1.608], [-0.0768, -0.0256, -0.128],
     [-0.06624, -0.02208, -0.1104], [0.42144, 0.14048, 0.7024]],
    [[3.216], [-0.256], [-0.2208], [1.4048]],
    [[0.928, 0.3712, 0.57536, 0.464], [2.032, 0.8128, 1.25984, 1.016]],
    [[0.928], [2.032]],
    [[-0.464], [-1.016]],
]


def seed000_forward(ops, args):
    """The seed's loss on the list of six arrays (or leaves)."""
    x, w1, w1b, w2, w2b, y = args
    hidden = 2 * (w1 @ x + w1b)                     # act(v) = 2 v
    y_hat = 2 * (w2 @ hidden + w2b)
    return ops.mean((y - y_hat) ** 2)


def _seed000_floor(args):
    x, w1, w1b, w2, w2b, y = args
    hidden = 2.0 * (w1 @ x + w1b)
    err = y - 2.0 * (w2 @ hidden + w2b)
    g_y = (2.0 / err.size) * err                    # d loss / d y
    g_w2b = -2.0 * g_y                              # through y_hat = 2 (...)
    g_w2 = g_w2b @ hidden.T
    g_w1b = 2.0 * (w2.T @ g_w2b)                    # through hidden = 2 (...)
    g_w1 = g_w1b @ x.T
    g_x = w1.T @ g_w1b
    return float(np.mean(err * err)), [g_x, g_w1, g_w1b, g_w2, g_w2b, g_y]


def seed000_call(name):
    """``(grad_call, value_and_grad_call)`` of backend ``name``: each takes the list of
    six arrays; the first returns the six gradients, the second the loss too (as a float
    and ndarrays). The first is the one timed."""
    ops = backend_ops(name)
    if ops.kind == "functional":
        loss = lambda args: seed000_forward(ops, args)          # noqa: E731
        grad, vg = ops.grad(loss), ops.value_and_grad(loss)
        if ops.jit:
            jit_grad, jit_vg = ops.jit(grad), ops.jit(vg)
            grad = lambda args: ops.ready(jit_grad(args))       # noqa: E731
            vg = lambda args: ops.ready(jit_vg(args))           # noqa: E731
    elif ops.kind == "tape":
        def vg(args):
            # fresh leaves over the caller's arrays, as grad() wraps them
            leaves = [ops.view_leaf(a) for a in args]
            loss = seed000_forward(ops, leaves)
            return loss, ops.gradients(loss, leaves)

        def grad(args):
            return vg(args)[1]
    else:
        vg = _seed000_floor

        def grad(args):
            return _seed000_floor(args)[1]

    def value_and_grad(args):
        value, grads = vg(args)
        return float(np.asarray(ops.array(value))), [np.asarray(ops.array(g)) for g in grads]
    return grad, value_and_grad
