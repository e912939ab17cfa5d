"""Workload 2: resident bytes per node of a 3e5-node chain, one fresh process per engine.

Each graph engine builds the chain in a fresh interpreter (``rss_probe``) and reports the
growth of its resident set while the chain is alive. The processes run one after the
other, before any row is recorded, so the root values can be cross-checked. The time
pytest-benchmark records is the whole subprocess (start-up and imports included) and
means little; the figure is ``extra_info["bytes_per_node"]``.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import harness
from .engines import (ENGINE_NAMES, EngineUnavailable, engine_or_not_run, load,
                      not_applicable)

ROOT = Path(__file__).resolve().parent.parent
NODES = 300_000
WORKLOAD = "chain_memory"


def _probe(name, nodes):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.rss_probe", name, str(nodes)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    if proc.returncode != 0:
        raise AssertionError(f"rss_probe {name} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_campaign(request, campaigns, quick):
    if WORKLOAD not in campaigns:
        campaign = harness.Campaign("chain memory", quick=quick)
        campaign.results = {}
        for name in ENGINE_NAMES:
            if name not in harness.selected(request, ("test_chain_memory",)) \
                    or not_applicable(WORKLOAD, name):
                continue
            try:
                load(name)
            except EngineUnavailable:
                continue

            def sample(first, name=name):
                t0 = time.perf_counter()
                result = _probe(name, NODES)
                campaign.results[name] = result
                return ({"process": time.perf_counter() - t0},
                        {"root": result["root_data"]})
            campaign.add(name, lambda s=sample: s, rounds=1, warmup=0)
        campaigns[WORKLOAD] = campaign.run()
    return campaigns[WORKLOAD]


@pytest.mark.parametrize("backend", ENGINE_NAMES)
def test_chain_memory(request, benchmark, campaigns, quick, not_run, summary, backend):
    row = dict(workload=WORKLOAD, backend=backend, nodes=NODES, size=f"{NODES:,} nodes",
               dtype="float64")
    engine = engine_or_not_run(row, not_run)
    campaign = memory_campaign(request, campaigns, quick)
    entry = harness.entry_or_not_run(campaign, backend, not_run, row)
    result = campaign.results[backend]
    outputs = harness.outputs_of(campaign)
    verdict, failures = harness.cross_check(backend, outputs, lambda a, b: 1e-9)

    benchmark.group = f"chain memory, {NODES} nodes (subprocess wall time)"
    benchmark.extra_info.update(row, nodes=result["nodes"], check=verdict, note=engine.note,
                                bytes_per_node=result["bytes_per_node"],
                                rss_growth=result["rss_after"] - result["rss_before"],
                                **harness.backend_context(backend))
    line = (f"{'chain memory':21} {result['nodes']:>7} nodes  {backend:10} "
            f"{result['bytes_per_node']:9.1f} bytes/node resident")
    if "tape_nbytes" in result:
        allocated = result["tape_nbytes"] / result["nodes"]
        benchmark.extra_info["tape_bytes_per_node_allocated"] = allocated
        line += f" ({allocated:.1f} allocated by the tape)"
    harness.record(benchmark, entry.samples.get("process", []))
    summary(line)
    assert not failures, "\n".join(failures)
