"""The tensor workloads: fastgrad's Tensor engine against HIPS autograd, PyTorch and numpy.

``tensor_backends`` has the workloads and the backends. Every test first runs one step
(or call) of its backend from the shared starting point and compares the result with the
other backends' (or, for seed 000, with the figures the notebook prints); the verdict
goes in ``extra_info["check"]`` and is asserted after the timing, so a fast but wrong row
still shows in the table, marked, and fails the run. Then the step is timed: warm-up
rounds, then fixed rounds of a fixed number of steps; pytest-benchmark reports the time
of one step. ``python benchmarks/report.py out.json`` prints the ratios.

A backend whose library is not installed (torch, autograd) is skipped with the reason;
the pulsar workload is skipped when ``pulsars_tuned.csv`` is not found.
"""
import numpy as np
import pytest

import tensor_backends as tb
from engines import EngineUnavailable

# rounds x steps per round, and warm-up rounds: the whole file takes under a minute
PULSAR_ROUNDS, PULSAR_ITERATIONS = 50, 20
LARGE_ROUNDS = {"autograd": 3}          # autograd: a few rounds only
LARGE_ROUNDS_DEFAULT = 25
SEED000_ROUNDS, SEED000_ITERATIONS = 40, 100
WARMUP_ROUNDS = 2

PULSAR_TOL = 1e-10                      # float64, the same math in another order
LARGE_TOL = {"float64": 1e-10, "float32": 1e-4}
SEED000_TOL = 1e-12                     # absolute (the notebook's figures are all below 10)

AUTOGRAD_NOTE = ("autograd's tanh VJP g / cosh(x)**2 overflows to inf on the unscaled "
                 "features (gradient 0 there, which is right); warning silenced")


def _load(name):
    try:
        tb.require(name)
    except EngineUnavailable as exc:
        pytest.skip(str(exc))
    return name


def _verdict(failures, verdicts, tol):
    if failures:
        return "MISMATCH: " + "; ".join(failures)
    if not verdicts:
        return "unverified (no other backend)"
    return f"ok (tol {tol:.0e}) " + ", ".join(verdicts)


def _record(benchmark, summary, label, name, unit, scale):
    """Per-step figure into extra_info and the printed summary (not under --benchmark-disable)."""
    if benchmark.stats is None:
        return
    figure = benchmark.stats.stats.median * scale
    benchmark.extra_info["per_step"] = figure
    summary(f"{label:22} {name:16} {figure:10.4g} {unit}  [{benchmark.extra_info['check']}]")


def _first_steps(make):
    """``get(name)``: the backend's first-step record (a dict), None if it is unavailable."""
    cache = {}

    def get(name):
        if name not in cache:
            try:
                backend = make(name)
            except EngineUnavailable:
                cache[name] = None
            else:
                out = {}
                backend.step(out)
                out["weights"] = getattr(backend, "current_weights", lambda: [])()
                cache[name] = out
        return cache[name]
    return get


# ---- workload 1: the pulsar MLP step of seed 001 --------------------------------------------

@pytest.fixture(scope="module")
def pulsar_problem():
    path, reason = tb.pulsar_csv()
    if path is None:
        pytest.skip(reason)
    return tb.PulsarProblem(path)


@pytest.fixture(scope="module")
def pulsar_first(pulsar_problem):
    return _first_steps(lambda name: tb.pulsar_backend(name, pulsar_problem))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("name", tb.BACKENDS)
def test_tensor_pulsar_step(benchmark, name, pulsar_problem, pulsar_first, summary):
    _load(name)
    mine = pulsar_first(name)
    verdicts, failures = [], []
    for other in tb.BACKENDS:
        theirs = pulsar_first(other) if other != name else None
        if theirs is None:
            continue
        pairs = [(f"weight {i} after the step", a, b)
                 for i, (a, b) in enumerate(zip(mine["weights"], theirs["weights"]))]
        pairs += [(f"gradient {i}", a, b)
                  for i, (a, b) in enumerate(zip(mine["grads"], theirs["grads"]))]
        err, where = tb.worst(pairs)
        verdicts.append(f"vs {other} {err:.1e}")
        if not err <= PULSAR_TOL:
            failures.append(f"{name} vs {other}: relative error {err:.3e} at {where} "
                            f"exceeds {PULSAR_TOL:.0e}")

    backend = tb.pulsar_backend(name, pulsar_problem)
    benchmark.group = "tensor: pulsar MLP step (8-25-10-2 tanh, batch 100, float64)"
    benchmark.extra_info.update(
        workload="tensor_pulsar_step", engine=name, dtype="float64",
        size=f"batch {tb.PULSAR_BATCH}", layers="-".join(map(str, tb.PULSAR_LAYERS)),
        check=_verdict(failures, verdicts, PULSAR_TOL),
        note=AUTOGRAD_NOTE if name == "autograd" else "", **tb.environment(name))
    benchmark.pedantic(backend.step, rounds=PULSAR_ROUNDS, iterations=PULSAR_ITERATIONS,
                       warmup_rounds=WARMUP_ROUNDS)
    _record(benchmark, summary, "pulsar step", name, "µs/step", 1e6)
    assert not failures, "\n".join(failures)


# ---- workload 2: the large MLP step ---------------------------------------------------------

LARGE_BACKENDS = ("fastgrad.Tensor", "autograd", "torch", "numpy")


@pytest.fixture(scope="module")
def large_problems():
    return {dtype: tb.LargeProblem(dtype) for dtype in LARGE_TOL}


@pytest.fixture(scope="module")
def large_first(large_problems):
    return {dtype: _first_steps(lambda name, p=problem: tb.large_backend(name, p))
            for dtype, problem in large_problems.items()}


@pytest.mark.parametrize("name", LARGE_BACKENDS)
@pytest.mark.parametrize("dtype", list(LARGE_TOL))
def test_tensor_large_mlp_step(benchmark, dtype, name, large_problems, large_first, summary):
    _load(name)
    problem, first, tol = large_problems[dtype], large_first[dtype], LARGE_TOL[dtype]
    mine = first(name)
    failures = []
    kinds = sorted({str(g.dtype) for g in mine["grads"]})
    if kinds != [dtype]:
        failures.append(f"{name}: gradients of a {dtype} step came back as {', '.join(kinds)}")
    verdicts = [f"grads {'/'.join(kinds)}"]
    for other in LARGE_BACKENDS:
        theirs = first(other) if other != name else None
        if theirs is None:
            continue
        pairs = [("loss", mine["loss"], theirs["loss"])]
        pairs += [(f"gradient {i}", a, b)
                  for i, (a, b) in enumerate(zip(mine["grads"], theirs["grads"]))]
        err, where = tb.worst(pairs)
        verdicts.append(f"vs {other} {err:.1e}")
        if not err <= tol:
            failures.append(f"{name} vs {other}: relative error {err:.3e} at {where} "
                            f"exceeds {tol:.0e}")

    backend = tb.large_backend(name, problem)
    layers = "-".join(map(str, tb.LARGE_LAYERS))
    benchmark.group = f"tensor: large MLP step ({layers} relu, batch {tb.LARGE_BATCH}, {dtype})"
    benchmark.extra_info.update(
        workload="tensor_large_mlp_step", engine=name, dtype=dtype,
        size=f"batch {tb.LARGE_BATCH}", layers=layers,
        check=_verdict(failures, verdicts, tol), **tb.environment(name))
    benchmark.pedantic(backend.step, rounds=LARGE_ROUNDS.get(name, LARGE_ROUNDS_DEFAULT),
                       iterations=1, warmup_rounds=1)
    _record(benchmark, summary, f"large MLP {dtype}", name, "ms/step", 1e3)
    assert not failures, "\n".join(failures)


# ---- workload 3: the gradient call of seed 000 ----------------------------------------------

SEED000_BACKENDS = ("fastgrad.grad", "autograd", "torch", "numpy")


@pytest.mark.parametrize("name", SEED000_BACKENDS)
def test_tensor_seed000_grad(benchmark, name, summary):
    _load(name)
    grad_call, value_and_grad_call = tb.seed000_backend(name)
    args = tb.seed000_arrays()
    loss, grads = value_and_grad_call(args)
    labels = ["x", "w1", "w1b", "w2", "w2b", "y"]
    pairs = [("loss", loss, tb.SEED000_LOSS)]
    pairs += [(f"d/d{n}", g, np.array(e)) for n, g, e in zip(labels, grads, tb.SEED000_GRADS)]
    err, where = 0.0, ""
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        e = np.inf if got.shape != np.shape(want) else float(np.max(np.abs(got - want)))
        if not e <= err:
            err, where = e, label
    failures = [] if err <= SEED000_TOL else [
        f"{name}: {where} differs from the notebook's figure by {err:.3e} "
        f"(tol {SEED000_TOL:.0e})"]
    # the timed call gives the same gradients as the checked one
    again = grad_call(args)
    if not all(np.array_equal(a, b) for a, b in zip(again, grads)):
        failures.append(f"{name}: grad() and value_and_grad() disagree")

    benchmark.group = "tensor: seed-000 gradient call (tiny 2-layer net, act(x) = 2x)"
    benchmark.extra_info.update(
        workload="tensor_seed000_grad", engine=name, dtype="float64", size="6 arrays",
        check=(("MISMATCH: " + "; ".join(failures)) if failures
               else f"ok vs notebook: {err:.1e} (tol {SEED000_TOL:.0e}, absolute)"),
        **tb.environment(name))
    benchmark.pedantic(grad_call, args=(args,), rounds=SEED000_ROUNDS,
                       iterations=SEED000_ITERATIONS, warmup_rounds=WARMUP_ROUNDS)
    _record(benchmark, summary, "seed-000 grad call", name, "µs/call", 1e6)
    assert not failures, "\n".join(failures)
