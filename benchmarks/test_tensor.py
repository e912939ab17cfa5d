"""The tensor workloads: fastgrad's Tensor engine against HIPS autograd, PyTorch, JAX, numpy.

``tensor_backends`` has the workloads and the backends. One campaign per workload (and
dtype) times every backend interleaved (``harness.Campaign``): warm-up calls (the first
is also the check), then rounds of a fixed number of steps (or calls); pytest-benchmark
reports the time of one step. Each backend's first step, from the shared starting point,
is compared with every other backend's (for seed 000: with the figures the notebook
prints); the verdict goes in ``extra_info["check"]`` and is asserted after the samples
are recorded, so a fast but wrong row still shows in the table, marked, and fails the run.

A backend whose library is not installed (torch, autograd, jax) is skipped with the
reason, the scalar engines with theirs; the pulsar workload is skipped when
``pulsars_tuned.csv`` is not found. The large MLP runs in two formulations: the rows one
(relu, cross-entropy, ``linear``; float64 and float32) and the seed's columns one
(``tanh(W @ A + b)`` with a column bias, MSE on one-hot targets; float64).
"""
import time

import numpy as np
import pytest

from . import harness
from . import tensor_backends as tb

# rounds x steps per sample, and warm-up samples (the first is the checked step)
PULSAR_ROUNDS, PULSAR_ITERATIONS = 20, 50
LARGE_ROUNDS = {"autograd": 5, "fastgrad.grad": 8}      # the rest: LARGE_ROUNDS_DEFAULT
LARGE_ROUNDS_DEFAULT = 10
SEED000_ROUNDS, SEED000_ITERATIONS = 20, 200
WARMUP = 2

PULSAR_TOL = 1e-10                      # float64, the same math in another order
LARGE_TOL = {"float64": 1e-10, "float32": 1e-4}
#: JAX's elementwise functions are XLA's own, not the libm numpy and PyTorch call: a few
#: ulp apart, not bit-equal. A wrong gradient is off by far more than this.
JAX_TOL64 = 1e-8
SEED000_TOL = 1e-12                     # absolute (the notebook's figures are all below 10)

AUTOGRAD_NOTE = ("autograd's tanh VJP g / cosh(x)**2 overflows to inf on the unscaled "
                 "features (gradient 0 there, which is right); warning silenced")
NOTES = {
    ("tensor_seed000_grad", "fastgrad.Tensor"): "fresh Tensor leaves over the arrays, "
                                                "backward(), .grad: as the torch row",
    ("tensor_seed000_grad", "torch"): "fresh leaves (from_numpy, requires_grad), "
                                      "torch.autograd.grad",
}


def _available(workload):
    return harness.availability(lambda name: tb.not_applicable(workload, name), tb.require)


def _labelled(out, weights=None):
    """A step's record as ``label -> array`` for ``harness.cross_check``."""
    labelled = {f"gradient {i}": g for i, g in enumerate(out["grads"])}
    if "loss" in out:
        labelled["loss"] = out["loss"]
    for i, w in enumerate(weights or []):
        labelled[f"weight {i} after the step"] = w
    return labelled


def _step_sampler(backend, iterations, with_weights):
    def sample(first):
        out = None
        if first:
            record = {}
            backend.step(record)
            weights = backend.current_weights() if with_weights else None
            out = _labelled(record, weights)
            out["_dtypes"] = sorted({str(np.asarray(g).dtype) for g in record["grads"]})
        step = backend.step
        t0 = time.perf_counter()
        for _ in range(iterations):
            step()
        return {"step": time.perf_counter() - t0}, out
    return sample


def _outputs(campaign):
    return {n: {k: v for k, v in e.outputs.items() if not k.startswith("_")}
            for n, e in campaign.entries.items() if not e.error and e.outputs is not None}


def _step_row(request, benchmark, campaigns, quick, not_run, summary, row, problem, title,
              rounds, iterations, warmup, with_weights, tolerance, label, unit, scale, note):
    """One row of a training-step workload: the campaign of its workload and dtype (run
    by the first row), the cross-check of the first steps, the samples."""
    workload, dtype = row["workload"], row["dtype"]
    available = _available(workload)
    harness.skip_unless_available(available, not_run, row)
    if isinstance(problem, str):
        not_run(problem, "not applicable", **row)

    def add(campaign, name):
        campaign.add(name, lambda: _step_sampler(tb.make_step(name, problem), iterations,
                                                 with_weights),
                     rounds(name), warmup, iterations)
    campaign = harness.campaign_of(request, campaigns, (workload, dtype), title, quick,
                                   (request.node.originalname,), tb.BACKENDS, available, add,
                                   dtype=dtype)
    name = row["backend"]
    entry = harness.entry_or_not_run(campaign, name, not_run, row)
    verdict, failures = harness.cross_check(name, _outputs(campaign), tolerance)
    kinds = entry.outputs["_dtypes"]
    if kinds != [dtype]:
        failures.append(f"{name}: gradients of a {dtype} step came back as "
                        f"{', '.join(kinds)}")
        verdict = "MISMATCH: " + "; ".join(failures)
    else:
        verdict = f"grads {dtype}; {verdict}"
    harness.finish(benchmark, campaign, name, row, verdict, failures, summary, label, unit,
                   scale, note)


# ---- workload 1: the pulsar MLP step of seed 001 --------------------------------------------

PULSAR = "tensor_pulsar_step"


@pytest.fixture(scope="module")
def pulsar_problem():
    path, reason = tb.pulsar_csv()
    return tb.PulsarProblem(path) if path is not None else reason


def _pulsar_tolerance(a, b):
    return JAX_TOL64 if "jax" in (a, b) else PULSAR_TOL


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("backend", tb.BACKENDS)
def test_tensor_pulsar_step(request, benchmark, campaigns, quick, not_run, summary,
                            pulsar_problem, backend):
    row = dict(workload=PULSAR, backend=backend, dtype="float64",
               size=f"batch {tb.PULSAR_BATCH}", layers="-".join(map(str, tb.PULSAR_LAYERS)))
    _step_row(request, benchmark, campaigns, quick, not_run, summary, row, pulsar_problem,
              "tensor: pulsar MLP step (8-25-10-2 tanh, batch 100, float64)",
              lambda name: PULSAR_ROUNDS, PULSAR_ITERATIONS, WARMUP, True, _pulsar_tolerance,
              "pulsar step", "µs/step", 1e6, AUTOGRAD_NOTE if backend == "autograd" else "")


# ---- workload 2: the large MLP step ---------------------------------------------------------

LARGE = "tensor_large_mlp_step"


LARGE_COLUMNS = "tensor_large_mlp_columns_step"


def _large_rounds(name):
    return LARGE_ROUNDS.get(name, LARGE_ROUNDS_DEFAULT)


def _large_tolerance(dtype):
    def tolerance(a, b):
        tol = LARGE_TOL[dtype]
        return max(tol, JAX_TOL64) if "jax" in (a, b) else tol
    return tolerance


@pytest.fixture(scope="module")
def large_problems():
    return {dtype: tb.LargeProblem(dtype) for dtype in LARGE_TOL}


@pytest.mark.parametrize("backend", tb.BACKENDS)
@pytest.mark.parametrize("dtype", list(LARGE_TOL))
def test_tensor_large_mlp_step(request, benchmark, campaigns, quick, not_run, summary,
                               large_problems, dtype, backend):
    layers = "-".join(map(str, tb.LARGE_LAYERS))
    row = dict(workload=LARGE, backend=backend, dtype=dtype, size=f"batch {tb.LARGE_BATCH}",
               layers=layers)
    _step_row(request, benchmark, campaigns, quick, not_run, summary, row,
              large_problems[dtype],
              f"tensor: large MLP step ({layers} relu, batch {tb.LARGE_BATCH}, {dtype})",
              _large_rounds, 1, 1, False, _large_tolerance(dtype), f"large MLP {dtype}",
              "ms/step", 1e3, NOTES.get((LARGE, backend), ""))


@pytest.fixture(scope="module")
def large_columns_problem():
    return tb.LargeColumnsProblem()


@pytest.mark.parametrize("backend", tb.BACKENDS)
def test_tensor_large_mlp_columns_step(request, benchmark, campaigns, quick, not_run,
                                       summary, large_columns_problem, backend):
    layers = "-".join(map(str, tb.LARGE_LAYERS))
    row = dict(workload=LARGE_COLUMNS, backend=backend, dtype="float64",
               size=f"batch {tb.LARGE_BATCH}", layers=layers)
    _step_row(request, benchmark, campaigns, quick, not_run, summary, row,
              large_columns_problem,
              f"tensor: large MLP step, the seed's columns ({layers} tanh, bias (n, 1), MSE, "
              f"batch {tb.LARGE_BATCH}, float64)",
              _large_rounds, 1, 1, False, _large_tolerance("float64"), "large MLP columns",
              "ms/step", 1e3, "")


# ---- workload 3: the gradient call of seed 000 ----------------------------------------------

SEED000 = "tensor_seed000_grad"
SEED000_LABELS = ("x", "w1", "w1b", "w2", "w2b", "y")


def _seed000_check(name, grad_call, value_and_grad_call):
    """Loss and gradients against the notebook's figures; the timed ``grad_call`` against
    ``value_and_grad_call``. Returns ``(verdict, failures)``."""
    args = tb.seed000_arrays()
    loss, grads = value_and_grad_call(args)
    pairs = [("loss", loss, tb.SEED000_LOSS)]
    pairs += [(f"d/d{n}", g, np.array(e))
              for n, g, e in zip(SEED000_LABELS, grads, tb.SEED000_GRADS)]
    again = grad_call(args)
    pairs += [(f"grad() vs value_and_grad() d/d{n}", a, b)
              for n, a, b in zip(SEED000_LABELS, again, grads)]
    err, where = 0.0, ""
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        e = np.inf if got.shape != np.shape(want) else float(np.max(np.abs(got - want)))
        if not e <= err:
            err, where = e, label
    if len(grads) != 6 or len(again) != 6:
        return "MISMATCH: not six gradients", [f"{name}: not six gradients"]
    if err <= SEED000_TOL:
        return f"ok vs notebook: {err:.1e} (tol {SEED000_TOL:.0e}, absolute)", []
    failure = (f"{name}: {where} differs from the notebook's figure by {err:.3e} "
               f"(tol {SEED000_TOL:.0e})")
    return "MISMATCH: " + failure, [failure]


def _call_sampler(grad_call, value_and_grad_call, name, iterations):
    args = tb.seed000_arrays()

    def sample(first):
        out = None
        if first:
            out = {"_check": _seed000_check(name, grad_call, value_and_grad_call)}
        t0 = time.perf_counter()
        for _ in range(iterations):
            grad_call(args)
        return {"step": time.perf_counter() - t0}, out
    return sample


@pytest.mark.parametrize("backend", tb.BACKENDS)
def test_tensor_seed000_grad(request, benchmark, campaigns, quick, not_run, summary, backend):
    row = dict(workload=SEED000, backend=backend, dtype="float64", size="6 arrays")
    available = _available(SEED000)
    harness.skip_unless_available(available, not_run, row)

    def add(campaign, name):
        campaign.add(name, lambda: _call_sampler(*tb.seed000_call(name), name,
                                                 SEED000_ITERATIONS),
                     SEED000_ROUNDS, WARMUP, SEED000_ITERATIONS)
    campaign = harness.campaign_of(
        request, campaigns, SEED000,
        "tensor: seed-000 gradient call (tiny 2-layer net, act(x) = 2x)", quick,
        ("test_tensor_seed000_grad",), tb.BACKENDS, available, add)
    entry = harness.entry_or_not_run(campaign, backend, not_run, row)
    verdict, failures = entry.outputs["_check"]
    harness.finish(benchmark, campaign, backend, row, verdict, failures, summary,
                   "seed-000 grad call", "µs/call", 1e6, NOTES.get((SEED000, backend), ""))
