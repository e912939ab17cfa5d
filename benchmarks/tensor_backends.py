"""The tensor workloads and their backends: one step of each, written once per backend.

Three workloads, each run by every backend that can be imported and makes sense for it
(``not_applicable`` gives the reason for the rows that are not run):

``pulsar``
    One SGD step (lr 0.01) of the 8-25-10-2 tanh MLP of the pulsar notebook (seed 001):
    a batch of 100 rows of the unscaled features of ``pulsars_tuned.csv``, tanh on every
    layer (the last one too), MSE against one-hot targets, float64. Layout of the
    notebook: ``W`` is (n_out, n_in), ``b`` is (n_out, 1), activations ``tanh(W @ A + b)``
    on ``A = X.T``. The batches are drawn once from a seeded generator and cycled.
``large``
    One SGD step of a 784-512-512-10 ReLU MLP on a batch of 512 random rows, softmax
    cross-entropy from logits against integer labels, float64 and float32. Layout
    ``X (batch, in) @ W (in, out) + b (out,)``.
``seed000``
    One gradient call of the two-layer net of seed 000 (``act(v) = 2 v``, mean squared
    error) with respect to the whole list ``[x, w1, w1b, w2, w2b, y]``.

The backends:

``fastgrad.grad``   ``fastgrad.grad`` over a list of arrays, code against ``fastgrad.numpy``
``fastgrad.Tensor`` ``fastgrad.Tensor`` parameters (or leaves), ``backward()``
``reference``,      the scalar engines: not run here (no array type; ``not_applicable``)
``micrograd``
``autograd``        HIPS autograd: the same code as ``fastgrad.grad``, on ``autograd.numpy``
``torch``           PyTorch eager, float64 or float32 tensors, ``backward()``
``jax``             JAX: the same code on ``jax.numpy``, the whole step under ``jax.jit``
                    (compiled in the warm-up), float64 enabled (``jax_enable_x64``); every
                    timed call waits for its results (``block_until_ready``)
``numpy``           the forward and backward pass written out by hand: no autodiff (the floor)

The JAX backend has not been run by its authors (JAX was not installed where the suite
was written): its rows are cross-checked like every other row, so a wrong JAX figure
fails the run instead of entering a table.

Each backend of a training workload is a class whose ``step(out=None)`` runs one step on
the next batch; given a dict ``out``, the step also leaves its loss and gradients in it
(as ndarrays) for the cross-check, so the code that is checked is the code that is
timed. A backend that cannot be imported raises ``engines.EngineUnavailable``.
"""
import os
from pathlib import Path

import numpy as np

from .engines import EngineUnavailable

HERE = Path(__file__).resolve().parent

#: display order in the report, and the order of the pytest parameters
BACKENDS = ("fastgrad.grad", "fastgrad.Tensor", "reference", "micrograd", "autograd", "torch",
            "jax", "numpy")

_SCALAR_ENGINE = ("N/A: a scalar engine (one graph node per float operation, no array "
                  "type); {why}")
_NOT_APPLICABLE = {
    ("tensor_pulsar_step", "scalar"): "its cost on a scalar graph of this size (~1e5 "
                                      "nodes a step) is what the MLP step row measures",
    ("tensor_large_mlp_step", "scalar"): "one step is ~7e8 scalar nodes (784-512-512-10 on "
                                         "512 rows)",
    ("tensor_seed000_grad", "scalar"): "the call takes and returns arrays",
}


def not_applicable(workload, name):
    """The reason backend ``name`` does not run tensor ``workload``, or None."""
    if name in ("reference", "micrograd"):
        return _SCALAR_ENGINE.format(name=name, why=_NOT_APPLICABLE[(workload, "scalar")])
    return None

# ---- what a backend needs: the modules, or the reason they are missing --------------------


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise EngineUnavailable(
            "PyTorch is not installed: pip install torch==2.13.0 (the CPU build; or "
            f"fastgrad[torch]) to add it to the comparison ({exc})") from exc
    return torch


def _import_autograd():
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as exc:
        raise EngineUnavailable(
            "HIPS autograd is not installed: pip install autograd==1.9.1 to add it to the "
            f"comparison ({exc})") from exc
    return autograd, anp


def _import_fastgrad():
    try:
        import fastgrad
        import fastgrad.numpy as fnp
    except ImportError as exc:
        raise EngineUnavailable(f"fastgrad is not importable: {exc}") from exc
    return fastgrad, fnp


def _import_jax():
    """jax and jax.numpy with float64 enabled (the other backends' float64 rows are float64;
    the float32 rows pass float32 arrays, which stay float32)."""
    os.environ.setdefault("JAX_ENABLE_X64", "1")        # read when jax is first imported
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise EngineUnavailable(
            f"JAX is not installed: pip install jax to add it to the comparison ({exc})"
        ) from exc
    jax.config.update("jax_enable_x64", True)
    if jnp.zeros(1, dtype=jnp.float64).dtype != np.float64:
        raise EngineUnavailable("JAX is installed but float64 could not be enabled "
                                "(jax_enable_x64); set JAX_ENABLE_X64=1")
    return jax, jnp


def _ready(jax, tree):
    """Wait until JAX has computed ``tree`` (its dispatch is asynchronous)."""
    wait = getattr(jax, "block_until_ready", None)
    if wait is not None:
        return wait(tree)
    for leaf in jax.tree_util.tree_leaves(tree):
        leaf.block_until_ready()
    return tree


def require(name):
    """Raise ``EngineUnavailable`` (with the reason) unless backend ``name`` can run."""
    if name.startswith("fastgrad"):
        _import_fastgrad()
    elif name == "autograd":
        _import_autograd()
    elif name == "torch":
        _import_torch()
    elif name == "jax":
        _import_jax()
    elif name in ("reference", "micrograd"):
        from . import engines
        engines.load(name)
    elif name != "numpy":
        raise ValueError(f"unknown backend {name!r}")


# ====================================================================================
# Workload 1: the pulsar MLP step of seed 001
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


class PulsarProblem:
    """The data, the initial weights and the batches every backend shares.

    Attributes
    ----------
    X : ndarray, (3278, 8) float64
        The features, not rescaled.
    Y : ndarray, (3278, 2) float64
        One-hot targets: column 0 for label 0, column 1 for label 1.
    weights : list of ndarray
        ``[W1, b1, W2, b2, W3, b3]``, ``W`` (n_out, n_in) and ``b`` (n_out, 1), drawn from
        ``normal(0, 1/sqrt(n_in + n_out))`` by a seeded generator.
    batches : ndarray, (50, 100) intp
        Row indices of the batches, drawn with replacement.
    """

    def __init__(self, path):
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        self.X = np.ascontiguousarray(table[:, :-1])
        label = table[:, -1].astype(np.intp)
        self.Y = np.zeros((len(label), 2))
        self.Y[np.arange(len(label)), label] = 1.0
        rng = np.random.default_rng(PULSAR_SEED)
        self.weights = []
        for n_in, n_out in zip(PULSAR_LAYERS, PULSAR_LAYERS[1:]):
            scale = 1.0 / np.sqrt(n_in + n_out)
            self.weights.append(rng.normal(0.0, scale, (n_out, n_in)))
            self.weights.append(rng.normal(0.0, scale, (n_out, 1)))
        self.batches = rng.integers(0, len(label), (PULSAR_BATCHES, PULSAR_BATCH))

    def copy_weights(self):
        return [w.copy() for w in self.weights]


def pulsar_mse(anp):
    """The seed's loss written once against a numpy module (``fastgrad.numpy`` or
    ``autograd.numpy``): ``weights`` is ``[W1, b1, W2, b2, W3, b3]``."""
    def loss(weights, X, Y):
        A = X.T                                     # (features, batch)
        for k in range(0, len(weights), 2):
            A = anp.tanh(weights[k] @ A + weights[k + 1])
        return anp.mean((A - Y.T) ** 2)
    return loss


class _Cycle:
    """The shared batches, one after the other, round and round."""

    def __init__(self, batches):
        self.batches = batches
        self.i = 0

    def next(self):
        idx = self.batches[self.i]
        self.i = (self.i + 1) % len(self.batches)
        return idx


class PulsarFunctional:
    """``grad(loss)(weights, X, Y)`` and a new list ``w - lr * g``: autograd's idiom.

    Used for both ``fastgrad.grad`` (over ``fastgrad.numpy``) and HIPS autograd.
    """

    def __init__(self, problem, grad, anp):
        self.X, self.Y = problem.X, problem.Y
        self.batch = _Cycle(problem.batches)
        self.weights = problem.copy_weights()
        self.loss = pulsar_mse(anp)
        self.gradient = grad(self.loss)

    def step(self, out=None):
        idx = self.batch.next()
        grads = self.gradient(self.weights, self.X[idx], self.Y[idx])
        self.weights = [w - PULSAR_LR * g for w, g in zip(self.weights, grads)]
        if out is not None:
            out["grads"] = [np.array(g) for g in grads]

    def current_weights(self):
        return [np.array(w) for w in self.weights]


class PulsarTensor:
    """``fastgrad.Tensor`` parameters: forward, ``mse_loss``, ``backward()``, SGD on ``.data``."""

    def __init__(self, problem):
        fastgrad, _ = _import_fastgrad()
        self.fg = fastgrad
        self.X, self.Y = problem.X, problem.Y
        self.batch = _Cycle(problem.batches)
        self.params = [fastgrad.Tensor(w, requires_grad=True) for w in problem.copy_weights()]

    def step(self, out=None):
        idx = self.batch.next()
        p = self.params
        A = self.X[idx].T
        for k in range(0, len(p), 2):
            A = (p[k] @ A + p[k + 1]).tanh()
        loss = self.fg.mse_loss(A, self.Y[idx].T)
        loss.backward()
        if out is not None:
            out["loss"] = loss.item()
            out["grads"] = [t.grad.copy() for t in p]
        for t in p:
            t.data -= PULSAR_LR * t.grad
            t.grad = None

    def current_weights(self):
        return [t.data.copy() for t in self.params]


class PulsarTorch:
    """PyTorch eager in float64: the same layout and math, ``backward()``, SGD in place."""

    def __init__(self, problem):
        torch = self.torch = _import_torch()
        self.F = torch.nn.functional
        self.X = torch.from_numpy(problem.X)
        self.Y = torch.from_numpy(problem.Y)
        self.batch = _Cycle(torch.from_numpy(problem.batches.astype(np.int64)))
        self.params = [torch.tensor(w, dtype=torch.float64, requires_grad=True)
                       for w in problem.weights]

    def step(self, out=None):
        torch = self.torch
        idx = self.batch.next()
        p = self.params
        A = self.X[idx].T
        for k in range(0, len(p), 2):
            A = torch.tanh(p[k] @ A + p[k + 1])
        loss = self.F.mse_loss(A, self.Y[idx].T)
        loss.backward()
        if out is not None:
            out["loss"] = loss.item()
            out["grads"] = [t.grad.numpy().copy() for t in p]
        with torch.no_grad():
            for t in p:
                t -= PULSAR_LR * t.grad
                t.grad = None

    def current_weights(self):
        return [t.detach().numpy().copy() for t in self.params]


class PulsarJax:
    """JAX: ``value_and_grad`` of the same loss on ``jax.numpy`` and the SGD update, the
    whole step one ``jax.jit`` function; the batch is indexed in numpy, as for the others."""

    def __init__(self, problem):
        jax, jnp = _import_jax()
        self.jax = jax
        self.X, self.Y = problem.X, problem.Y
        self.batch = _Cycle(problem.batches)
        self.weights = [jnp.asarray(w) for w in problem.copy_weights()]
        vg = jax.value_and_grad(pulsar_mse(jnp))

        def step(weights, X, Y):
            loss, grads = vg(weights, X, Y)
            return [w - PULSAR_LR * g for w, g in zip(weights, grads)], loss, grads
        self._step = jax.jit(step)

    def step(self, out=None):
        idx = self.batch.next()
        weights, loss, grads = _ready(self.jax, self._step(self.weights, self.X[idx],
                                                           self.Y[idx]))
        self.weights = weights
        if out is not None:
            out["loss"] = float(loss)
            out["grads"] = [np.asarray(g) for g in grads]

    def current_weights(self):
        return [np.asarray(w) for w in self.weights]


class PulsarNumpy:
    """The floor: the forward and backward pass written out in numpy, updates in place."""

    def __init__(self, problem):
        self.X, self.Y = problem.X, problem.Y
        self.batch = _Cycle(problem.batches)
        self.weights = problem.copy_weights()

    def step(self, out=None):
        idx = self.batch.next()
        w = self.weights
        acts = [self.X[idx].T]                       # A0, A1, A2, A3
        for k in range(0, len(w), 2):
            acts.append(np.tanh(w[k] @ acts[-1] + w[k + 1]))
        diff = acts[-1] - self.Y[idx].T
        delta = (2.0 / diff.size) * diff            # d loss / d A3
        grads = [None] * len(w)
        for k in range(len(w) - 2, -1, -2):
            A_out, A_in = acts[k // 2 + 1], acts[k // 2]
            dz = delta * (1.0 - A_out * A_out)       # through tanh
            grads[k] = dz @ A_in.T
            grads[k + 1] = dz.sum(axis=1, keepdims=True)
            if k:
                delta = w[k].T @ dz
        if out is not None:
            out["loss"] = float(np.mean(diff * diff))
            out["grads"] = [g.copy() for g in grads]
        for p, g in zip(w, grads):
            p -= PULSAR_LR * g

    def current_weights(self):
        return [w.copy() for w in self.weights]


def pulsar_backend(name, problem):
    """A fresh backend ``name`` at the problem's initial weights and first batch."""
    if name == "fastgrad.grad":
        fastgrad, fnp = _import_fastgrad()
        return PulsarFunctional(problem, fastgrad.grad, fnp)
    if name == "fastgrad.Tensor":
        return PulsarTensor(problem)
    if name == "autograd":
        autograd, anp = _import_autograd()
        return PulsarFunctional(problem, autograd.grad, anp)
    if name == "torch":
        return PulsarTorch(problem)
    if name == "jax":
        return PulsarJax(problem)
    if name == "numpy":
        return PulsarNumpy(problem)
    raise ValueError(f"backend {name!r} does not run the pulsar step")


# ====================================================================================
# Workload 2: the large MLP step (784-512-512-10, ReLU, cross-entropy)
# ====================================================================================

LARGE_LAYERS = (784, 512, 512, 10)
LARGE_BATCH = 512
LARGE_LR = 0.01
LARGE_SEED = 2


class LargeProblem:
    """One batch of random inputs and labels, and He-scaled random weights.

    ``X`` is (512, 784), ``labels`` (512,) integers in [0, 10); the weights are
    ``[W1, b1, W2, b2, W3, b3]`` with ``W`` (n_in, n_out) and ``b`` (n_out,), all in
    ``dtype`` (drawn in float64, then cast, so both dtypes start from the same numbers).
    """

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

    def copy_weights(self):
        return [w.copy() for w in self.weights]


class LargeTensor:
    """``fastgrad.Tensor`` parameters, ``linear``, ``relu``, ``cross_entropy``, ``backward()``."""

    def __init__(self, problem):
        fastgrad, _ = _import_fastgrad()
        self.fg = fastgrad
        self.X, self.labels = problem.X, problem.labels
        self.params = [fastgrad.Tensor(w, requires_grad=True) for w in problem.copy_weights()]

    def step(self, out=None):
        # fastgrad.linear is what nn.Linear (and so nn.MLP) computes: x @ W + b as one op
        p = self.params
        h = self.X
        linear = self.fg.linear
        for k in range(0, len(p) - 2, 2):
            h = linear(h, p[k], p[k + 1]).relu()
        logits = linear(h, p[-2], p[-1])
        loss = self.fg.cross_entropy(logits, self.labels)
        loss.backward()
        if out is not None:
            out["loss"] = loss.item()
            out["grads"] = [t.grad.copy() for t in p]
        for t in p:
            t.data -= LARGE_LR * t.grad
            t.grad = None


class LargeTorch:
    """PyTorch eager: ``relu``, ``F.cross_entropy`` on integer labels, ``backward()``."""

    def __init__(self, problem):
        torch = self.torch = _import_torch()
        self.F = torch.nn.functional
        self.X = torch.from_numpy(problem.X)
        self.labels = torch.from_numpy(problem.labels.astype(np.int64))
        self.params = [torch.tensor(w, requires_grad=True) for w in problem.weights]

    def step(self, out=None):
        torch, F = self.torch, self.F
        p = self.params
        h = self.X
        for k in range(0, len(p) - 2, 2):
            h = torch.relu(h @ p[k] + p[k + 1])
        loss = F.cross_entropy(h @ p[-2] + p[-1], self.labels)
        loss.backward()
        if out is not None:
            out["loss"] = loss.item()
            out["grads"] = [t.grad.numpy().copy() for t in p]
        with torch.no_grad():
            for t in p:
                t -= LARGE_LR * t.grad
                t.grad = None


def large_xent(anp):
    """Mean cross-entropy of the MLP's logits, written once against a numpy module
    (``autograd.numpy``, ``jax.numpy``, ``fastgrad.numpy``); relu is
    ``anp.maximum(z, 0.0)``, the functional idiom."""
    def relu(z):
        return anp.maximum(z, 0.0)

    def loss(weights, X, labels):
        h = X
        for k in range(0, len(weights) - 2, 2):
            h = relu(h @ weights[k] + weights[k + 1])
        z = h @ weights[-2] + weights[-1]
        shifted = z - anp.max(z, axis=1, keepdims=True)
        log_p = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_p[np.arange(len(labels)), labels])
    return loss


class LargeFunctional:
    """``value_and_grad`` of the loss above and a new list ``w - lr * g``: autograd's idiom,
    for HIPS autograd and ``fastgrad.value_and_grad`` (``vg`` is the one to use)."""

    def __init__(self, problem, vg):
        self.X, self.labels = problem.X, problem.labels
        self.weights = problem.copy_weights()
        self.vg = vg

    def step(self, out=None):
        loss, grads = self.vg(self.weights, self.X, self.labels)
        if out is not None:
            out["loss"] = float(loss)
            out["grads"] = [np.array(g) for g in grads]
        self.weights = [w - LARGE_LR * g for w, g in zip(self.weights, grads)]


class LargeJax:
    """JAX: ``value_and_grad`` of the same loss on ``jax.numpy`` and the SGD update under
    one ``jax.jit``; the batch and labels are put on the device once, as PyTorch's are."""

    def __init__(self, problem):
        jax, jnp = _import_jax()
        self.jax = jax
        self.X = jnp.asarray(problem.X)
        labels = problem.labels
        self.weights = [jnp.asarray(w) for w in problem.copy_weights()]
        vg = jax.value_and_grad(large_xent(jnp))

        def step(weights, X):
            loss, grads = vg(weights, X, labels)        # labels: a constant of the program
            return [w - LARGE_LR * g for w, g in zip(weights, grads)], loss, grads
        self._step = jax.jit(step)

    def step(self, out=None):
        weights, loss, grads = _ready(self.jax, self._step(self.weights, self.X))
        self.weights = weights
        if out is not None:
            out["loss"] = float(loss)
            out["grads"] = [np.asarray(g) for g in grads]


class LargeNumpy:
    """The floor: forward, a stable log-softmax and the backward pass by hand."""

    def __init__(self, problem):
        self.X, self.labels = problem.X, problem.labels
        self.rows = np.arange(len(problem.labels))
        self.weights = problem.copy_weights()

    def step(self, out=None):
        w = self.weights
        acts = [self.X]                             # X, h1, h2
        for k in range(0, len(w) - 2, 2):
            acts.append(np.maximum(acts[-1] @ w[k] + w[k + 1], 0.0))
        z = acts[-1] @ w[-2] + w[-1]
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(self.rows)
        dz = np.exp(log_p)                          # softmax - one_hot, over n
        dz[self.rows, self.labels] -= 1.0
        dz /= n
        grads = [None] * len(w)
        for k in range(len(w) - 2, -1, -2):
            h = acts[k // 2]
            grads[k] = h.T @ dz
            grads[k + 1] = dz.sum(axis=0)
            if k:
                dz = (dz @ w[k].T) * (h > 0)        # through relu (h = relu(z) > 0 iff z > 0)
        if out is not None:
            out["loss"] = float(-log_p[self.rows, self.labels].mean())
            out["grads"] = [g.copy() for g in grads]
        for p, g in zip(w, grads):
            p -= LARGE_LR * g


def large_backend(name, problem):
    """A fresh backend ``name`` at the problem's weights."""
    if name == "fastgrad.grad":
        fastgrad, fnp = _import_fastgrad()
        return LargeFunctional(problem, fastgrad.value_and_grad(large_xent(fnp)))
    if name == "fastgrad.Tensor":
        return LargeTensor(problem)
    if name == "torch":
        return LargeTorch(problem)
    if name == "autograd":
        autograd, anp = _import_autograd()
        return LargeFunctional(problem, autograd.value_and_grad(large_xent(anp)))
    if name == "jax":
        return LargeJax(problem)
    if name == "numpy":
        return LargeNumpy(problem)
    raise ValueError(f"backend {name!r} does not run the large MLP")


# ====================================================================================
# Workload 3: the gradient call of seed 000
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


def seed000_mse(anp):
    """The seed's loss against a numpy module: the argument is the list of six arrays."""
    def loss(args):
        x, w1, w1b, w2, w2b, y = args
        hidden = 2 * (w1 @ x + w1b)                 # act(v) = 2 v
        y_hat = 2 * (w2 @ hidden + w2b)
        return anp.mean((y - y_hat) ** 2)
    return loss


def seed000_backend(name):
    """``(grad_call, value_and_grad_call)`` of backend ``name``: each takes the list of
    six arrays; the first returns the six gradients (ndarrays), the second the loss too.
    The first is the one timed."""
    if name == "fastgrad.grad":
        fastgrad, fnp = _import_fastgrad()
        loss = seed000_mse(fnp)
        return fastgrad.grad(loss), fastgrad.value_and_grad(loss)
    if name == "fastgrad.Tensor":
        fastgrad, _ = _import_fastgrad()
        Tensor = fastgrad.Tensor

        def run(args):
            # fresh leaves over the caller's arrays, as grad() wraps them
            leaves = [Tensor(a, requires_grad=True) for a in args]
            x, w1, w1b, w2, w2b, y = leaves
            hidden = 2 * (w1 @ x + w1b)
            y_hat = 2 * (w2 @ hidden + w2b)
            loss = ((y - y_hat) ** 2).mean()
            loss.backward()
            return loss, [t.grad for t in leaves]

        def grad(args):
            return run(args)[1]

        def value_and_grad(args):
            loss, grads = run(args)
            return loss.item(), grads

        return grad, value_and_grad
    if name == "autograd":
        autograd, anp = _import_autograd()
        loss = seed000_mse(anp)
        return autograd.grad(loss), autograd.value_and_grad(loss)
    if name == "jax":
        jax, jnp = _import_jax()
        loss = seed000_mse(jnp)
        jit_grad = jax.jit(jax.grad(loss))
        jit_vg = jax.jit(jax.value_and_grad(loss))

        def grad(args):
            return _ready(jax, jit_grad(args))

        def value_and_grad(args):
            value, grads = _ready(jax, jit_vg(args))
            return float(value), [np.asarray(g) for g in grads]

        return grad, value_and_grad
    if name == "torch":
        torch = _import_torch()
        from_numpy, autograd_grad, tmean = torch.from_numpy, torch.autograd.grad, torch.mean

        def run(args):
            # fresh leaves over the caller's arrays, as grad() wraps them
            leaves = [from_numpy(a).requires_grad_() for a in args]
            x, w1, w1b, w2, w2b, y = leaves
            hidden = 2 * (w1 @ x + w1b)
            y_hat = 2 * (w2 @ hidden + w2b)
            loss = tmean((y - y_hat) ** 2)
            return loss, [g.numpy() for g in autograd_grad(loss, leaves)]

        def grad(args):
            return run(args)[1]

        def value_and_grad(args):
            loss, grads = run(args)
            return loss.item(), grads

        return grad, value_and_grad
    if name == "numpy":
        def run(args):
            x, w1, w1b, w2, w2b, y = args
            hidden = 2.0 * (w1 @ x + w1b)
            err = y - 2.0 * (w2 @ hidden + w2b)
            g_y = (2.0 / err.size) * err            # d loss / d y
            g_w2b = -2.0 * g_y                      # through y_hat = 2 (...)
            g_w2 = g_w2b @ hidden.T
            g_w1b = 2.0 * (w2.T @ g_w2b)            # through hidden = 2 (...)
            g_w1 = g_w1b @ x.T
            g_x = w1.T @ g_w1b
            return err, [g_x, g_w1, g_w1b, g_w2, g_w2b, g_y]

        def grad(args):
            return run(args)[1]

        def value_and_grad(args):
            err, grads = run(args)
            return float(np.mean(err * err)), grads

        return grad, value_and_grad
    raise ValueError(f"backend {name!r} does not run the seed-000 gradient call")
