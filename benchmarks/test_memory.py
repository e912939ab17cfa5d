"""Workload 2: resident bytes per node of a 3e5-node chain, one fresh process per engine.

The time pytest-benchmark records is the whole subprocess (start-up included) and means
little; the figure is ``extra_info["bytes_per_node"]``, also printed in the summary.
"""
import json
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve().parent / "rss_probe.py"
NODES = 300_000


def _probe(name, nodes):
    proc = subprocess.run([sys.executable, str(PROBE), name, str(nodes)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"rss_probe.py {name} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_chain_memory(benchmark, engine, summary):
    benchmark.group = f"chain memory, {NODES} nodes (subprocess wall time)"
    result = benchmark.pedantic(_probe, args=(engine.name, NODES), rounds=1, iterations=1)
    benchmark.extra_info.update(workload="chain_memory", engine=engine.name,
                                nodes=result["nodes"], bytes_per_node=result["bytes_per_node"],
                                rss_growth=result["rss_after"] - result["rss_before"],
                                note=engine.note)
    line = (f"{'chain memory':15} {result['nodes']:>7} nodes  {engine.name:10} "
            f"{result['bytes_per_node']:9.1f} bytes/node resident")
    if "tape_nbytes" in result:
        allocated = result["tape_nbytes"] / result["nodes"]
        benchmark.extra_info["tape_bytes_per_node_allocated"] = allocated
        line += f" ({allocated:.1f} allocated by the tape)"
    print(line)
    summary(line)
