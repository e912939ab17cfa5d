"""Workload 1: the scalar chain ``x = tanh(x * a + b)``: build, backward, build+backward.

One campaign per size runs every scalar engine interleaved (``harness.Campaign``). Each
sample starts from fresh leaves; a graph engine's sample times the build and the backward
pass apart within the same run (and their sum, "build+backward"); a functional engine
(autograd) can only be timed building and sweeping in one call, so it has a
"build+backward" row and its build and backward rows say N/A. Before its samples are
recorded, each engine's root value and leaf gradients are checked against every other
engine's (the same chain from the same leaves); a mismatch marks the row and fails the
test after recording, so a fast wrong row stays visible.
"""
import pytest

from . import harness
from .engines import (ENGINE_NAMES, NODES_PER_REPEAT, EngineUnavailable, chain_sampler,
                      engine_or_not_run, load, not_applicable)

SIZES = (3_000, 30_000, 300_000)
ROUNDS = {3_000: 15, 30_000: 8, 300_000: 5}
WARMUP = 1
#: (engine, nodes) -> (rounds, warm-up calls): a sample of these takes seconds (autograd
#: at 3e5 nodes 13-17 s: one checked, timed call, no warm-up; the smaller sizes have run
#: the same code in this process already). Fewer rounds are spread over the campaign.
SLOW = {("autograd", 30_000): (3, 1), ("autograd", 300_000): (1, 0),
        ("micrograd", 300_000): (3, 0), ("torch", 300_000): (3, 0)}

TIGHT = 1e-12       # fastgrad vs reference: the same float operations in the same order
LOOSE = 1e-9        # any other pair: libm vs torch's tanh, another summation order

#: test function -> (workload, phase of the sample)
TESTS = {"test_chain_build": ("chain_build", "build"),
         "test_chain_backward": ("chain_backward", "backward"),
         "test_chain_build_backward": ("chain_build_backward", "build+backward")}
LABELS = {"chain_build": "chain build", "chain_backward": "chain backward",
          "chain_build_backward": "chain build+backward"}


def tolerance(a, b):
    return TIGHT if {a, b} == {"fastgrad", "reference"} else LOOSE


def chain_campaign(request, campaigns, quick, nodes):
    key = ("chain", nodes)
    if key not in campaigns:
        wanted = {name for test, (workload, _) in TESTS.items()
                  for name in harness.selected(request, (test,), nodes=nodes)
                  if not not_applicable(workload, name)}
        campaign = harness.Campaign(f"chain, {nodes} nodes", quick=quick)
        for name in ENGINE_NAMES:
            if name not in wanted:
                continue
            try:
                engine = load(name)
            except EngineUnavailable:
                continue
            rounds, warmup = SLOW.get((name, nodes), (ROUNDS[nodes], WARMUP))
            campaign.add(name, lambda e=engine: chain_sampler(e, nodes // NODES_PER_REPEAT),
                         rounds, warmup)
        campaigns[key] = campaign.run()
    return campaigns[key]


def _row(request, benchmark, campaigns, quick, not_run, summary, nodes, backend):
    workload, phase = TESTS[request.node.originalname]
    row = dict(workload=workload, backend=backend, nodes=nodes, size=f"{nodes:,} nodes",
               dtype="float64")
    engine = engine_or_not_run(row, not_run)
    campaign = chain_campaign(request, campaigns, quick, nodes)
    entry = harness.entry_or_not_run(campaign, backend, not_run, row)
    outputs = harness.outputs_of(campaign)
    verdict, failures = harness.cross_check(backend, outputs, tolerance)

    benchmark.group = f"{LABELS[workload]}, {nodes} nodes"
    benchmark.extra_info.update(row, check=verdict, note=engine.note,
                                **harness.backend_context(backend))
    harness.record(benchmark, entry.samples.get(phase, []))
    if benchmark.stats:
        ns = benchmark.stats.stats.median / nodes * 1e9
        benchmark.extra_info["ns_per_node"] = ns
        summary(f"{LABELS[workload]:21} {nodes:>7} nodes  {backend:10} {ns:9.1f} ns/node  "
                f"[{verdict}]")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("backend", ENGINE_NAMES)
@pytest.mark.parametrize("nodes", SIZES, ids=lambda n: f"{n}nodes")
def test_chain_build(request, benchmark, campaigns, quick, not_run, summary, nodes, backend):
    _row(request, benchmark, campaigns, quick, not_run, summary, nodes, backend)


@pytest.mark.parametrize("backend", ENGINE_NAMES)
@pytest.mark.parametrize("nodes", SIZES, ids=lambda n: f"{n}nodes")
def test_chain_backward(request, benchmark, campaigns, quick, not_run, summary, nodes,
                        backend):
    _row(request, benchmark, campaigns, quick, not_run, summary, nodes, backend)


@pytest.mark.parametrize("backend", ENGINE_NAMES)
@pytest.mark.parametrize("nodes", SIZES, ids=lambda n: f"{n}nodes")
def test_chain_build_backward(request, benchmark, campaigns, quick, not_run, summary, nodes,
                              backend):
    _row(request, benchmark, campaigns, quick, not_run, summary, nodes, backend)
