"""Hessians (issue 12) and graphs recorded once and replayed (issue 14): the workloads.

Each workload gives, per backend, ``setup(name)``: a ``Call`` with the function that is
timed and the outputs it is cross-checked on. The fastgrad rows call the API fixed by
SPEC.md ("Derivatives of any order", "Function: record once, replay in C"); while the
installed fastgrad lacks it, ``require`` raises ``backends.MissingAPI`` and the row is a
not-run row that says what is missing, so it runs as soon as the feature is merged.

``hessian_rosenbrock`` (family ``hessian``)
    The Hessian of the extended Rosenbrock function
    ``sum_i 100 (x[2i+1] - x[2i]**2)**2 + (1 - x[2i])**2``, n = 10 and 100, at a seeded
    point near the classic start (-1.2, 1, ...). Checked against its closed form (2x2
    blocks on the diagonal) and every other row.
``hessian_pulsar_hvp`` (family ``hessian``)
    A Hessian-vector product of the seed-001 pulsar MLP loss (8-25-10-2 tanh, MSE on
    one-hot targets, one batch of 100) with respect to all 507 weights as one flat
    vector, with a fixed random vector. The features are standardised here (column
    mean 0, variance 1): on the raw ones tanh saturates and autograd's tanh rule
    ``g / cosh(x)**2`` overflows, whose second derivative is then nan.
``function_chain_replay``, ``function_chain_replay_grad`` (family ``function``)
    The chain ``x = tanh(x * a + b)``, 30,000 nodes, recorded once (``fastgrad.Function``)
    and evaluated at the leaves ``(a, b, x0)``: forward only, and value + the three
    gradients. Against the eager engine (record, and sweep, every time), a CasADi
    ``Function`` of the SX graph (and of its gradient), and ``jax.jit`` (the compile
    time is reported apart, in the row's note).
``function_mlp_vmap_step`` (family ``function``)
    micrograd's demo step (2-16-16-1 relu, 100 points of two moons, hinge loss + 1e-4 L2,
    SGD lr 0.5; ``tiny_mlp``) with the per-sample loss recorded once and batched:
    ``F.vmap(in_axes=(None, 0, 0)).value_and_grad(params, X, Y)``; against the eager
    engine's step, CasADi's ``map`` over the batch, ``jit(vmap(value_and_grad))``,
    ``torch.func.vmap(grad_and_value)`` and the batched forward and backward by hand.
"""
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import engines, tiny_mlp
from . import tensor_backends as tb
from .backends import fastgrad_api, modules, pick, require as _require_import

# ---- the workloads and their rows ----------------------------------------------------------

ROSENBROCK = "hessian_rosenbrock"
HVP = "hessian_pulsar_hvp"
CHAIN_REPLAY = "function_chain_replay"
CHAIN_REPLAY_GRAD = "function_chain_replay_grad"
MLP_VMAP = "function_mlp_vmap_step"

#: workload -> its rows (backend names from the registry)
ROWS = {
    ROSENBROCK: pick("fastgrad.grad", "fastgrad.Function", "autograd", "torch.func",
                     "torch.double_backward", "jax", "jax.nojit", "casadi"),
    HVP: pick("fastgrad.grad", "autograd", "torch.func", "torch.double_backward", "jax",
              "jax.nojit"),
    CHAIN_REPLAY: pick("fastgrad.Function", "fastgrad", "casadi", "jax", "cfloor"),
    CHAIN_REPLAY_GRAD: pick("fastgrad.Function", "fastgrad", "casadi", "jax", "cfloor"),
    MLP_VMAP: pick("fastgrad.Function", "fastgrad", "casadi", "jax", "torch.func", "numpy"),
}

#: (workload, backend) -> the fastgrad names the row calls (SPEC.md)
FASTGRAD_API = {
    (ROSENBROCK, "fastgrad.grad"): ("hessian",),
    (ROSENBROCK, "fastgrad.Function"): ("trace", "Function.hessian"),
    (HVP, "fastgrad.grad"): ("hessian_vector_product", "make_hvp"),
    (CHAIN_REPLAY, "fastgrad.Function"): ("Function",),
    (CHAIN_REPLAY_GRAD, "fastgrad.Function"): ("Function", "Function.value_and_grad"),
    (MLP_VMAP, "fastgrad.Function"): ("trace", "Function.vmap"),
}

#: what each row runs, for its note in the report
NOTES = {
    (ROSENBROCK, "fastgrad.grad"): "fastgrad.hessian(f)(x)",
    (ROSENBROCK, "fastgrad.Function"): "fastgrad.trace once, then F.hessian(x)",
    (ROSENBROCK, "autograd"): "autograd.hessian(f)(x)",
    (ROSENBROCK, "torch.func"): "torch.func.hessian(f)(x)",
    (ROSENBROCK, "torch.double_backward"): "grad(f, create_graph=True), then one "
                                           "torch.autograd.grad per row of H",
    (ROSENBROCK, "jax"): "jax.jit(jax.hessian(f))",
    (ROSENBROCK, "jax.nojit"): "jax.hessian(f), not compiled",
    (ROSENBROCK, "casadi"): "casadi.hessian of the SX expression, as a casadi.Function",
    (HVP, "fastgrad.grad"): "fastgrad.hessian_vector_product(loss)(theta, v) (checked "
                            "against make_hvp)",
    (HVP, "autograd"): "autograd.hessian_vector_product(loss)(theta, v)",
    (HVP, "torch.func"): "torch.func.jvp(torch.func.grad(loss), (theta,), (v,))",
    (HVP, "torch.double_backward"): "g = grad(loss, create_graph=True); grad(g @ v)",
    (HVP, "jax"): "jax.jit of jax.jvp(jax.grad(loss))",
    (HVP, "jax.nojit"): "jax.jvp(jax.grad(loss)), not compiled",
    (CHAIN_REPLAY, "fastgrad.Function"): "F(0.9, 0.1, 0.5): recorded once, replayed",
    (CHAIN_REPLAY, "fastgrad"): "eager Value engine: records the chain every time "
                                "(the chain build row)",
    (CHAIN_REPLAY, "casadi"): "casadi.Function of the SX chain",
    (CHAIN_REPLAY_GRAD, "fastgrad.Function"): "F.value_and_grad at the leaves",
    (CHAIN_REPLAY_GRAD, "fastgrad"): "eager Value engine: record + backward every time",
    (CHAIN_REPLAY_GRAD, "casadi"): "casadi.Function of the SX chain and its gradient",
    (CHAIN_REPLAY, "cfloor"): "the loop in C by hand (chain_floor.c, -O2)",
    (CHAIN_REPLAY_GRAD, "cfloor"): "forward and reverse loops in C by hand (chain_floor.c, "
                                   "-O2): the same operations as the replay's sweeps",
    (MLP_VMAP, "fastgrad.Function"): "per-sample loss traced once; "
                                     "F.vmap(in_axes=(None, 0, 0)).value_and_grad",
    (MLP_VMAP, "fastgrad"): "eager Value engine (the MLP step row)",
    (MLP_VMAP, "casadi"): "casadi.Function of the per-sample loss and gradient, "
                          ".map(100) over the batch",
    (MLP_VMAP, "jax"): "jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0, 0)))",
    (MLP_VMAP, "torch.func"): "torch.func.vmap(torch.func.grad_and_value(loss), "
                              "in_dims=(None, 0, 0)), eager",
    (MLP_VMAP, "numpy"): "batched forward and backward by hand",
}


def not_applicable(workload, name):
    """Every row of ``ROWS`` runs; no other backend does."""
    if name in ROWS[workload]:
        return None
    return f"N/A: {name} has no row in {workload}"


def require(workload):
    """``require(name)`` for ``harness.availability``: the library, and for the fastgrad
    rows the SPEC functions the row calls."""
    def check(name):
        _require_import(name)
        api = FASTGRAD_API.get((workload, name))
        if api:
            fastgrad_api(*api)
    return check


@dataclass
class Call:
    """What a row times: ``run()`` once per iteration; ``outputs()`` (label -> array) for
    the cross-check, from the workload's starting point; ``compile_s``: seconds of the
    first call (jax.jit compiles there), reported apart."""

    run: Callable
    outputs: Callable
    compile_s: float = None
    extra: dict = field(default_factory=dict)


def _timed_first(call):
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


# ====================================================================================
# The extended Rosenbrock function
# ====================================================================================

ROSENBROCK_SIZES = (10, 100)
ROSENBROCK_SEED = 12


def rosenbrock_point(n):
    """``(-1.2, 1, -1.2, 1, ...)`` plus a seeded perturbation of 0.1 (n even)."""
    rng = np.random.default_rng(ROSENBROCK_SEED)
    return np.tile([-1.2, 1.0], n // 2) + 0.1 * rng.standard_normal(n)


def rosenbrock(anp):
    """The function on a 1-D array, written against a numpy-like module (autograd.numpy,
    fastgrad.numpy, jax.numpy, torch)."""
    def f(x):
        odd, even = x[0::2], x[1::2]
        return anp.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)
    return f


def rosenbrock_scalar(xs):
    """The same on a list of scalars (``Value``, CasADi ``SX``): one term per pair."""
    total = None
    for i in range(0, len(xs), 2):
        d = xs[i + 1] - xs[i] * xs[i]
        e = 1.0 - xs[i]
        term = 100.0 * (d * d) + e * e
        total = term if total is None else total + term
    return total


def rosenbrock_hessian(x):
    """The closed form: 2x2 blocks ``[[1200 a^2 - 400 b + 2, -400 a], [-400 a, 200]]``."""
    n = len(x)
    H = np.zeros((n, n))
    a, b = x[0::2], x[1::2]
    i = np.arange(0, n, 2)
    H[i, i] = 1200.0 * a * a - 400.0 * b + 2.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * a
    H[i + 1, i + 1] = 200.0
    return H


def rosenbrock_call(name, n):
    x = rosenbrock_point(n)
    if name == "fastgrad.grad":
        fastgrad, fnp = modules("fastgrad")
        h = fastgrad.hessian(rosenbrock(fnp))
        run = lambda: h(x)                                      # noqa: E731
    elif name == "fastgrad.Function":
        fastgrad, _ = modules("fastgrad")
        F = fastgrad.trace(rosenbrock_scalar, list(x))
        run = lambda: F.hessian(x)                              # noqa: E731
    elif name == "autograd":
        autograd, anp = modules("autograd")
        h = autograd.hessian(rosenbrock(anp))
        run = lambda: h(x)                                      # noqa: E731
    elif name in ("torch.func", "torch.double_backward"):
        torch = modules("torch")
        f, xt = rosenbrock(torch), torch.from_numpy(x.copy())
        if name == "torch.func":
            h = torch.func.hessian(f)
            run = lambda: h(xt)                                 # noqa: E731
        else:
            def run():
                leaf = xt.detach().requires_grad_()
                (g,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
                return torch.stack([torch.autograd.grad(g[i], leaf, retain_graph=True)[0]
                                    for i in range(n)])
    elif name in ("jax", "jax.nojit"):
        jax, jnp = modules("jax")
        h = jax.hessian(rosenbrock(jnp))
        h = jax.jit(h) if name == "jax" else h
        xj, ready = jnp.asarray(x), tb._ready(jax)
        run = lambda: ready(h(xj))                              # noqa: E731
    elif name == "casadi":
        ca = modules("casadi")
        v = ca.SX.sym("x", n)
        H, _ = ca.hessian(rosenbrock_scalar([v[i] for i in range(n)]), v)
        hf = ca.Function("H", [v], [H])
        run = lambda: hf(x)                                     # noqa: E731
    else:
        raise ValueError(f"{name} has no Rosenbrock row")

    def outputs():
        return {"Hessian": _array(run())}
    return Call(run, outputs, _timed_first(run) if name == "jax" else None)


def _array(value):
    """An ndarray of a backend's result (CasADi DM, torch tensor, JAX array, ndarray)."""
    if hasattr(value, "full"):
        return np.array(value.full())
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    return np.array(value, dtype=np.float64)


def _normal(outputs):
    """``outputs`` without the values below the smallest normal float64: d/dx0 of the
    chain is 0.9**10000-small (5e-324 in libm's arithmetic), and XLA flushes subnormals
    to zero, so that label cannot be compared; the others can."""
    tiny = np.finfo(np.float64).tiny
    return {k: v for k, v in outputs.items() if abs(v) >= tiny}


def _scalar(value):
    """A backend's one-element result as a float (CasADi gives a 1x1 DM)."""
    array = _array(value)
    if array.size != 1:
        raise ValueError(f"expected one value, got shape {array.shape}")
    return float(array.ravel()[0])


# ====================================================================================
# A Hessian-vector product of the pulsar loss
# ====================================================================================

HVP_SEED = 14


class PulsarHVPProblem:
    """The first batch of the pulsar problem (features standardised), its initial weights
    as one flat vector ``theta`` (507), and a fixed vector ``v``."""

    def __init__(self, path):
        problem = tb.PulsarProblem(path)
        X = (problem.X - problem.X.mean(axis=0)) / problem.X.std(axis=0)
        idx = problem.rows[0]
        self.X, self.Y = np.ascontiguousarray(X[idx].T), np.ascontiguousarray(problem.Y[idx].T)
        self.shapes = [w.shape for w in problem.weights]
        self.theta = np.concatenate([w.ravel() for w in problem.weights])
        self.v = np.random.default_rng(HVP_SEED).standard_normal(self.theta.size)

    def loss(self, anp, X, Y):
        """The MSE loss of the flat weights, against a numpy-like module."""
        shapes = self.shapes

        def loss(theta):
            weights, i = [], 0
            for shape in shapes:
                size = shape[0] * shape[1]
                weights.append(theta[i:i + size].reshape(shape))
                i += size
            return tb.columns_forward(_MSE_OPS(anp), weights, X, Y)
        return loss


def _MSE_OPS(anp):
    return tb.Ops("flat", "functional", tanh=anp.tanh, mse=lambda p, t: anp.mean((p - t) ** 2))


def hvp_call(name, problem):
    p = problem
    if name == "fastgrad.grad":
        fastgrad, fnp = modules("fastgrad")
        loss = p.loss(fnp, p.X, p.Y)
        hvp = fastgrad.hessian_vector_product(loss)
        run = lambda: hvp(p.theta, p.v)                         # noqa: E731

        def outputs():
            vjp = fastgrad.make_hvp(loss)(p.theta)[0]
            return {"Hv": _array(run()), "make_hvp Hv": _array(vjp(p.v))}
        return Call(run, outputs)
    if name == "autograd":
        autograd, anp = modules("autograd")
        loss = p.loss(anp, p.X, p.Y)
        hvp = autograd.hessian_vector_product(loss)
        run = lambda: hvp(p.theta, p.v)                         # noqa: E731

        def outputs():
            vjp = autograd.make_hvp(loss)(p.theta)[0]
            return {"Hv": _array(run()), "make_hvp Hv": _array(vjp(p.v))}
        return Call(run, outputs)
    if name in ("torch.func", "torch.double_backward"):
        torch = modules("torch")
        loss = p.loss(torch, torch.from_numpy(p.X), torch.from_numpy(p.Y))
        theta, v = torch.from_numpy(p.theta.copy()), torch.from_numpy(p.v.copy())
        if name == "torch.func":
            g = torch.func.grad(loss)
            run = lambda: torch.func.jvp(g, (theta,), (v,))[1]  # noqa: E731
        else:
            def run():
                leaf = theta.detach().requires_grad_()
                (grad,) = torch.autograd.grad(loss(leaf), leaf, create_graph=True)
                return torch.autograd.grad(grad @ v, leaf)[0]
    elif name in ("jax", "jax.nojit"):
        jax, jnp = modules("jax")
        loss = p.loss(jnp, jnp.asarray(p.X), jnp.asarray(p.Y))
        g = jax.grad(loss)

        def jvp_of_grad(theta, v):
            return jax.jvp(g, (theta,), (v,))[1]
        f = jax.jit(jvp_of_grad) if name == "jax" else jvp_of_grad
        theta, v, ready = jnp.asarray(p.theta), jnp.asarray(p.v), tb._ready(jax)
        run = lambda: ready(f(theta, v))                        # noqa: E731
    else:
        raise ValueError(f"{name} has no pulsar HVP row")
    return Call(run, lambda: {"Hv": _array(run())},
                _timed_first(run) if name == "jax" else None)


# ====================================================================================
# The chain, recorded once
# ====================================================================================

CHAIN_NODES = 30_000
CHAIN_REPEATS = CHAIN_NODES // engines.NODES_PER_REPEAT
#: the chain's a: at 0.9 (engines.CHAIN_LEAVES) the adjoint underflows into subnormal
#: numbers and stays there (0.675 of the smallest one rounds back up to it), slow on many
#: CPUs; at 0.5 it rounds to 0 and the reverse sweep runs on normal numbers
CHAIN_A = (0.9, 0.5)


def chain_leaves(a):
    """``(a, b, x0)``: engines.CHAIN_LEAVES with its ``a`` replaced."""
    return (a,) + tuple(engines.CHAIN_LEAVES[1:])


def _chain_jax(jnp):
    """The chain on ``v = [a, b, x0]`` in ``jax.lax.fori_loop``: XLA compiles a loop of
    10,000 iterations of the same three ops (unrolled, the program would have 30,000 ops
    and take minutes to compile)."""
    import jax

    def chain(v):
        a, b = v[0], v[1]
        return jax.lax.fori_loop(0, CHAIN_REPEATS, lambda i, x: jnp.tanh(x * a + b), v[2])
    return chain


def chain_call(name, with_grad, a=engines.CHAIN_LEAVES[0]):
    """``run()`` evaluates the chain at ``chain_leaves(a)`` (and its gradient, ``with_grad``)."""
    leaves = np.array(chain_leaves(a))
    if name == "fastgrad.Function":
        fastgrad, _ = modules("fastgrad")
        V = fastgrad.Value
        inputs = [V(float(v)) for v in leaves]
        root = engines.build_chain(V.tanh, *inputs, CHAIN_REPEATS)
        F = fastgrad.Function(inputs=[inputs], outputs=root)
        if with_grad:
            run = lambda: F.value_and_grad(leaves)              # noqa: E731
        else:
            run = lambda: F(leaves)                             # noqa: E731
    elif name == "fastgrad":
        engine = engines.load("fastgrad")
        sample = engines.chain_sampler(engine, CHAIN_REPEATS, chain_leaves(a))
        phase = "build+backward" if with_grad else "build"

        def outputs():
            out = sample(True)[1]
            return _normal({k: v for k, v in out.items() if with_grad or k == "root"})
        # the eager engine's own phases: build (the forward) and build + backward
        return Call(None, outputs, extra={"sampler": sample, "phase": phase})
    elif name == "casadi":
        ca = modules("casadi")
        v = ca.SX.sym("v", 3)
        root = engines.build_chain(ca.tanh, v[0], v[1], v[2], CHAIN_REPEATS)
        f = ca.Function("chain", [v], [root, ca.gradient(root, v)] if with_grad else [root])
        run = lambda: f(leaves)                                 # noqa: E731
    elif name == "jax":
        jax, jnp = modules("jax")
        chain = _chain_jax(jnp)
        f = jax.jit(jax.value_and_grad(chain) if with_grad else chain)
        vj, ready = jnp.asarray(leaves), tb._ready(jax)
        run = lambda: ready(f(vj))                              # noqa: E731
    elif name == "cfloor":
        floor, (a_, b_, x0) = modules("cfloor"), (float(v) for v in leaves)
        if with_grad:
            run = lambda: floor.value_and_grad(a_, b_, x0, CHAIN_REPEATS)  # noqa: E731
        else:
            run = lambda: floor.value(a_, b_, x0, CHAIN_REPEATS)          # noqa: E731
    else:
        raise ValueError(f"{name} has no chain replay row")

    def outputs():
        result = run()
        if not with_grad:
            return {"root": _scalar(result)}
        value, grads = result
        grads = _array(grads).ravel()
        return _normal({"root": _scalar(value), "d/da": grads[0], "d/db": grads[1],
                        "d/dx0": grads[2]})
    return Call(run, outputs, _timed_first(run) if name == "jax" else None)


# ====================================================================================
# micrograd's MLP step, the per-sample loss batched
# ====================================================================================

def _flat_forward(anp, relu, theta, x, sizes=tiny_mlp.SIZES):
    """The MLP's score of one input from the flat parameters, as matrices: each layer's
    block of ``theta`` is (n_out, n_in + 1), the weights then the bias, per neuron."""
    i, h = 0, x
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        block = theta[i:i + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        i += n_out * (n_in + 1)
        z = block[:, :n_in] @ h + block[:, n_in]
        h = z if layer == len(sizes) - 2 else relu(z)
    return h[0]


def _mlp_floor_grad(theta, X, Y, sizes=tiny_mlp.SIZES):
    """The mean hinge loss of the batch and its gradient by hand (no L2 term)."""
    blocks, i = [], 0
    for n_in, n_out in zip(sizes, sizes[1:]):
        blocks.append(theta[i:i + n_out * (n_in + 1)].reshape(n_out, n_in + 1))
        i += n_out * (n_in + 1)
    acts = [X]                                              # (N, n) each
    for k, block in enumerate(blocks):
        z = acts[-1] @ block[:, :-1].T + block[:, -1]
        acts.append(z if k == len(blocks) - 1 else np.maximum(z, 0.0))
    margin = 1.0 - Y * acts[-1][:, 0]
    loss = np.maximum(margin, 0.0).mean()
    dz = (-(Y * (margin > 0)) / len(Y))[:, None]            # d loss / d score, (N, 1)
    grads = []
    for k in range(len(blocks) - 1, -1, -1):
        h = acts[k]
        grads.append(np.concatenate([dz.T @ h, dz.sum(axis=0)[:, None]], axis=1).ravel())
        if k:
            dz = (dz @ blocks[k][:, :-1]) * (h > 0)
    return loss, np.concatenate(grads[::-1])


class MLPVmapStep:
    """One SGD step from the per-sample values and gradients: loss ``mean(l_i) + alpha
    sum(p^2)``, gradient ``mean(g_i) + 2 alpha p``, ``p -= lr * gradient``.

    ``batched(theta)`` returns ``(values (N,), per-sample gradients (N, P))``, or with
    ``mean_only`` the mean value and the mean gradient (the hand-written floor)."""

    def __init__(self, batched, mean_only=False):
        X, y = tiny_mlp.two_moons()
        self.X, self.Y = np.array(X), np.array(y)
        self.theta = np.array(tiny_mlp.MLP(float).parameters())
        self.batched, self.mean_only = batched, mean_only

    def step(self):
        theta, alpha = self.theta, tiny_mlp.ALPHA
        values, grads = self.batched(theta)
        if self.mean_only:
            data_loss, data_grad = values, grads
        else:
            data_loss, data_grad = _array(values).mean(), _array(grads).mean(axis=0)
        loss = data_loss + alpha * float(theta @ theta)
        self.theta = theta - tiny_mlp.LEARNING_RATE * (data_grad + 2.0 * alpha * theta)
        return loss


def mlp_vmap_call(name):
    if name == "fastgrad":
        X, y = tiny_mlp.two_moons()
        sample = tiny_mlp.mlp_sampler(engines.load("fastgrad"), X, y)

        def outputs():
            out = sample(True)[1]
            return {"loss": out["loss"], "parameters": np.array(out["parameters"])}
        return Call(None, outputs, extra={"sampler": sample, "phase": "step"})
    relu_sx = None
    if name == "fastgrad.Function":
        fastgrad, _ = modules("fastgrad")
        state = MLPVmapStep(None)
        F = fastgrad.trace(tiny_mlp.sample_loss(lambda v: v.relu()), list(state.theta),
                           list(state.X[0]), float(state.Y[0]))
        B = F.vmap(in_axes=(None, 0, 0))
        state.batched = lambda theta: B.value_and_grad(theta, state.X, state.Y, argnum=0)
    elif name == "casadi":
        ca = modules("casadi")
        state = MLPVmapStep(None)
        p, x, yy = ca.SX.sym("p", state.theta.size), ca.SX.sym("x", 2), ca.SX.sym("y")
        relu_sx = lambda v: ca.fmax(v, 0)                      # noqa: E731
        loss = tiny_mlp.sample_loss(relu_sx)([p[i] for i in range(state.theta.size)],
                                             [x[0], x[1]], yy)
        per_sample = ca.Function("l", [p, x, yy], [loss, ca.gradient(loss, p)])
        mapped = per_sample.map(len(state.Y))
        XT, YT = state.X.T.copy(), state.Y[None, :].copy()

        def batched(theta):
            values, grads = mapped(theta, XT, YT)
            return values.full().ravel(), grads.full().T
        state.batched = batched
    elif name == "jax":
        jax, jnp = modules("jax")
        state = MLPVmapStep(None)

        def loss(theta, x, y):
            return jax.nn.relu(1.0 - y * _flat_forward(jnp, jax.nn.relu, theta, x))
        f = jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0, 0)))
        Xj, Yj, ready = jnp.asarray(state.X), jnp.asarray(state.Y), tb._ready(jax)
        state.batched = lambda theta: ready(f(jnp.asarray(theta), Xj, Yj))
    elif name == "torch.func":
        torch = modules("torch")
        state = MLPVmapStep(None)

        def loss(theta, x, y):
            return torch.relu(1.0 - y * _flat_forward(torch, torch.relu, theta, x))
        f = torch.func.vmap(torch.func.grad_and_value(loss), in_dims=(None, 0, 0))
        Xt, Yt = torch.from_numpy(state.X), torch.from_numpy(state.Y)

        def batched(theta):
            grads, values = f(torch.from_numpy(theta), Xt, Yt)
            return values, grads
        state.batched = batched
    elif name == "numpy":
        state = MLPVmapStep(None, mean_only=True)
        state.batched = lambda theta: _mlp_floor_grad(theta, state.X, state.Y)
    else:
        raise ValueError(f"{name} has no MLP vmap row")

    first = {}

    def outputs():
        if not first:                       # the first step, from the seeded weights
            first["loss"] = float(state.step())
            first["parameters"] = state.theta.copy()
        return dict(first)
    call = Call(state.step, outputs)
    if name == "jax":
        call.compile_s = _timed_first(lambda: state.batched(state.theta))
    return call
