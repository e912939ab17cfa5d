"""Workload 3: micrograd's demo MLP on two moons, one SGD step per sample, every engine.

One campaign runs every scalar engine interleaved (``harness.Campaign``), each on its own
model from the same seeded weights, all taking the same steps on the same 100 points.
Each engine's first step (its warm-up) is checked against every other engine's: the loss
and every parameter after the update, fastgrad against the reference to 1e-12 relative,
any other pair to 1e-9. The verdict goes in ``extra_info["check"]`` and is asserted after
the samples are recorded, so a fast but wrong row still shows in the table, marked, and
fails the run.

PyTorch runs the same scalar graph on 0-d float64 tensors (one tensor per scalar, node
for node); autograd differentiates the same forward pass written over a flat list of
floats (``tiny_mlp.scalar_loss``).
"""
import pytest

from . import harness
from .engines import (ENGINE_NAMES, EngineUnavailable, engine_or_not_run, load,
                      not_applicable)
from .tiny_mlp import SIZES, mlp_sampler, two_moons

WORKLOAD = "mlp_step"
#: samples per engine (each after one checked warm-up step); the slow engines take
#: seconds a step and get fewer, spread over the campaign
ROUNDS = {"fastgrad": 15, "reference": 10, "micrograd": 5, "torch": 5, "autograd": 3}
TIGHT = 1e-12       # fastgrad vs reference: the same float operations in the same order
LOOSE = 1e-9        # any other pair: micrograd's int zeros from relu, torch's kernels


def tolerance(a, b):
    return TIGHT if {a, b} == {"fastgrad", "reference"} else LOOSE


def mlp_campaign(request, campaigns, quick):
    if WORKLOAD not in campaigns:
        X, y = two_moons()
        wanted = harness.selected(request, ("test_mlp_step",))
        campaign = harness.Campaign("mlp step", quick=quick)
        campaign.points = len(X)
        for name in ENGINE_NAMES:
            if name not in wanted or not_applicable(WORKLOAD, name):
                continue
            try:
                engine = load(name)
            except EngineUnavailable:
                continue
            campaign.add(name, lambda e=engine: mlp_sampler(e, X, y), ROUNDS.get(name, 5),
                         warmup=1)
        campaigns[WORKLOAD] = campaign.run()
    return campaigns[WORKLOAD]


@pytest.mark.parametrize("backend", ENGINE_NAMES)
def test_mlp_step(request, benchmark, campaigns, quick, not_run, summary, backend):
    layers = "-".join(map(str, SIZES))
    row = dict(workload=WORKLOAD, backend=backend, size="100 points", layers=layers,
               dtype="float64")
    engine = engine_or_not_run(row, not_run)
    campaign = mlp_campaign(request, campaigns, quick)
    entry = harness.entry_or_not_run(campaign, backend, not_run, row)
    outputs = harness.outputs_of(campaign)
    verdict, failures = harness.cross_check(backend, outputs, tolerance)

    benchmark.group = f"mlp step ({layers}, {campaign.points} points)"
    benchmark.extra_info.update(row, params=len(entry.outputs["parameters"]), check=verdict,
                                note=engine.note, **harness.backend_context(backend))
    harness.record(benchmark, entry.samples.get("step", []))
    if benchmark.stats:
        ms = benchmark.stats.stats.median * 1e3
        benchmark.extra_info["ms_per_step"] = ms
        summary(f"{'mlp step':21} {backend:10} {ms:9.2f} ms/step  [{verdict}]")
    assert not failures, "\n".join(failures)
