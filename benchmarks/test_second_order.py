"""Hessians (issue 12) and graphs recorded once and replayed (issue 14), every backend.

``second_order`` has the workloads. As everywhere in the suite, the rows of one workload
(and size) share one campaign that times every backend interleaved; each backend's first
result is cross-checked against every other's (the Rosenbrock Hessian also against its
closed form) before its samples are recorded, and a mismatch fails the row after it is
recorded. A backend that is not installed, and a fastgrad row whose SPEC function the
installed fastgrad lacks (``fastgrad.hessian``, ``fastgrad.Function``, ...), is a not-run
row with the reason: those rows run as soon as the feature is merged.

``jax`` rows are ``jax.jit``-compiled in the set-up; the compile time (the first call)
is in the row's ``extra_info["compile_s"]`` and note, not in its figure.
"""
import time

import pytest

from . import harness
from . import second_order as so
from . import tensor_backends as tb

#: campaign -> (rounds, calls per sample) of its backends
TIMING = {(so.ROSENBROCK, 10): (10, 20), (so.ROSENBROCK, 100): (8, 2), so.HVP: (10, 10),
          so.MLP_VMAP: (10, 3),
          **{(w, a): (10, 5) for w in (so.CHAIN_REPLAY, so.CHAIN_REPLAY_GRAD) for a in so.CHAIN_A}}
#: the slow ones: autograd's Hessian at n = 100 is 100 reverse sweeps
SLOW = {((so.ROSENBROCK, 100), "autograd"): (4, 1), ((so.ROSENBROCK, 100), "jax.nojit"): (4, 1),
        ((so.ROSENBROCK, 100), "torch.double_backward"): (6, 1)}
WARMUP = 2
#: Rosenbrock: a polynomial, every backend exact to rounding; the rest: float64 math in
#: another order, XLA's tanh a few ulp from libm's
TOLERANCE = {so.ROSENBROCK: 1e-12, so.HVP: 1e-10, so.CHAIN_REPLAY: 1e-9,
             so.CHAIN_REPLAY_GRAD: 1e-9, so.MLP_VMAP: 1e-9}
JAX_TOL = 1e-8


def _available(workload):
    return harness.availability(lambda name: so.not_applicable(workload, name),
                                so.require(workload))


def _sampler(call, iterations):
    """``sample(first)``: ``iterations`` calls of ``call.run`` timed as one ``call``, or
    for the eager engine (``call.run`` None) one sample of its own sampler's phase; the
    outputs on the first sample."""
    run = call.run
    if run is None:
        sampler, phase = call.extra["sampler"], call.extra["phase"]

        def sample(first):
            if first:                                   # its first call: the start point
                return {}, call.outputs()
            times, _ = sampler(False)
            return {"call": times[phase]}, None
        return sample

    def sample(first):
        out = call.outputs() if first else None
        t0 = time.perf_counter()
        for _ in range(iterations):
            run()
        return {"call": time.perf_counter() - t0}, out
    return sample


def _row(request, benchmark, campaigns, quick, not_run, summary, row, make, key, label,
         unit, scale, reference=None):
    """One row: the campaign ``key`` of its workload (run by the first row), the check
    of the first results, the samples."""
    workload, name = row["workload"], row["backend"]
    available = _available(workload)
    harness.skip_unless_available(available, not_run, row)

    def add(campaign, backend):
        rounds, iterations = SLOW.get((key, backend), TIMING[key])
        if backend == "fastgrad":                       # the eager sampler: one a sample
            iterations = 1
        made = campaign.__dict__.setdefault("made", {})

        def setup():
            made[backend] = make(backend)
            return _sampler(made[backend], iterations)
        campaign.add(backend, setup, rounds, WARMUP, iterations)
    campaign = harness.campaign_of(request, campaigns, key, f"{label}, {row['size']}", quick,
                                   (request.node.originalname,), so.ROWS[workload], available,
                                   add, **{k: row[k] for k in ("n", "a") if k in row})
    harness.entry_or_not_run(campaign, name, not_run, row)
    outputs = dict(harness.outputs_of(campaign), **(reference or {}))

    def tolerance(a, b):
        return max(TOLERANCE[workload], JAX_TOL) if "jax" in a + b else TOLERANCE[workload]
    verdict, failures = harness.cross_check(name, outputs, tolerance)
    call = campaign.made[name]
    note, extra = so.NOTES.get((workload, name), ""), {}
    if call.compile_s is not None:
        extra["compile_s"] = call.compile_s
        note += f"; compiled in the set-up: first call {call.compile_s:.3g} s, not timed"
    harness.finish(benchmark, campaign, name, row, verdict, failures, summary, label, unit,
                   scale, note, phase="call", **extra)


@pytest.mark.parametrize("backend", so.ROWS[so.ROSENBROCK])
@pytest.mark.parametrize("n", so.ROSENBROCK_SIZES, ids=lambda n: f"n{n}")
def test_hessian_rosenbrock(request, benchmark, campaigns, quick, not_run, summary, n,
                            backend):
    row = dict(workload=so.ROSENBROCK, backend=backend, n=n, size=f"n = {n}",
               dtype="float64")
    closed = {"closed form": {"Hessian": so.rosenbrock_hessian(so.rosenbrock_point(n))}}
    _row(request, benchmark, campaigns, quick, not_run, summary, row,
         lambda name: so.rosenbrock_call(name, n), (so.ROSENBROCK, n),
         "Rosenbrock Hessian", "µs/call", 1e6, closed)


@pytest.fixture(scope="module")
def hvp_problem():
    path, reason = tb.pulsar_csv()
    return so.PulsarHVPProblem(path) if path is not None else reason


@pytest.mark.parametrize("backend", so.ROWS[so.HVP])
def test_hessian_pulsar_hvp(request, benchmark, campaigns, quick, not_run, summary,
                            hvp_problem, backend):
    row = dict(workload=so.HVP, backend=backend, size="507 weights, batch 100",
               layers="8-25-10-2", dtype="float64")
    if isinstance(hvp_problem, str):
        not_run(hvp_problem, "not applicable", **row)
    _row(request, benchmark, campaigns, quick, not_run, summary, row,
         lambda name: so.hvp_call(name, hvp_problem), so.HVP, "pulsar loss HVP", "µs/call",
         1e6)


def _chain_row(workload, backend, a):
    return dict(workload=workload, backend=backend, nodes=so.CHAIN_NODES, a=a,
                size=f"{so.CHAIN_NODES:,} nodes, a = {a}", dtype="float64")


@pytest.mark.parametrize("backend", so.ROWS[so.CHAIN_REPLAY])
@pytest.mark.parametrize("a", so.CHAIN_A, ids=lambda a: f"a{a}")
def test_function_chain_replay(request, benchmark, campaigns, quick, not_run, summary, a,
                               backend):
    _row(request, benchmark, campaigns, quick, not_run, summary,
         _chain_row(so.CHAIN_REPLAY, backend, a),
         lambda name: so.chain_call(name, with_grad=False, a=a), (so.CHAIN_REPLAY, a),
         "chain replay", "ns/node", 1e9 / so.CHAIN_NODES)


@pytest.mark.parametrize("backend", so.ROWS[so.CHAIN_REPLAY_GRAD])
@pytest.mark.parametrize("a", so.CHAIN_A, ids=lambda a: f"a{a}")
def test_function_chain_replay_grad(request, benchmark, campaigns, quick, not_run, summary,
                                    a, backend):
    _row(request, benchmark, campaigns, quick, not_run, summary,
         _chain_row(so.CHAIN_REPLAY_GRAD, backend, a),
         lambda name: so.chain_call(name, with_grad=True, a=a), (so.CHAIN_REPLAY_GRAD, a),
         "chain replay+grad", "ns/node", 1e9 / so.CHAIN_NODES)


@pytest.mark.parametrize("backend", so.ROWS[so.MLP_VMAP])
def test_function_mlp_vmap_step(request, benchmark, campaigns, quick, not_run, summary,
                                backend):
    row = dict(workload=so.MLP_VMAP, backend=backend, size="100 points", layers="2-16-16-1",
               dtype="float64")
    _row(request, benchmark, campaigns, quick, not_run, summary, row, so.mlp_vmap_call,
         so.MLP_VMAP, "MLP step, vmap", "ms/step", 1e3)
