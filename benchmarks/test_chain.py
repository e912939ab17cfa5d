"""Workload 1: the scalar chain ``x = tanh(x * a + b)``, build and backward timed apart.

Each round starts from nothing: the setup drops the previous round's graph (and collects
garbage, for the engines whose graphs are reference cycles), so no round pays for another
round's graph. The graph under measurement lives in ``live``, not in the arguments
pytest-benchmark keeps between rounds.
"""
import gc

import pytest

from engines import NODES_PER_REPEAT, build_chain, chain_leaves

SIZES = (3_000, 30_000, 300_000)
ROUNDS = {3_000: 30, 30_000: 10, 300_000: 4}


def _record(benchmark, summary, workload, engine, nodes):
    if benchmark.stats is None:         # --benchmark-disable: ran once, untimed
        return
    median = benchmark.stats.stats.median
    ns = median / nodes * 1e9
    benchmark.extra_info["ns_per_node"] = ns
    summary(f"{workload:15} {nodes:>7} nodes  {engine.name:10} {ns:9.1f} ns/node")


@pytest.mark.parametrize("nodes", SIZES, ids=lambda n: f"{n}nodes")
def test_chain_build(benchmark, engine, nodes, summary):
    repeats = nodes // NODES_PER_REPEAT
    live = []

    def setup():
        live.clear()
        gc.collect()
        live.extend(chain_leaves(engine))

    def build():
        a, b, x0 = live
        live.append(build_chain(engine.tanh, a, b, x0, repeats))

    benchmark.group = f"chain build, {nodes} nodes"
    benchmark.extra_info.update(workload="chain_build", engine=engine.name, nodes=nodes,
                                note=engine.note)
    benchmark.pedantic(build, setup=setup, rounds=ROUNDS[nodes], warmup_rounds=1)
    live.clear()
    _record(benchmark, summary, "chain build", engine, nodes)


@pytest.mark.parametrize("nodes", SIZES, ids=lambda n: f"{n}nodes")
def test_chain_backward(benchmark, engine, nodes, summary):
    repeats = nodes // NODES_PER_REPEAT
    backward = engine.backward
    live = []

    def setup():
        live.clear()
        gc.collect()
        a, b, x0 = chain_leaves(engine)
        live.append(build_chain(engine.tanh, a, b, x0, repeats))
        live.append(a)

    def sweep():
        backward(live[0])

    benchmark.group = f"chain backward, {nodes} nodes"
    benchmark.extra_info.update(workload="chain_backward", engine=engine.name, nodes=nodes,
                                note=engine.note)
    benchmark.pedantic(sweep, setup=setup, rounds=ROUNDS[nodes], warmup_rounds=1)
    assert live[1].grad != 0.0, "backward did not reach the leaf a"
    live.clear()
    _record(benchmark, summary, "chain backward", engine, nodes)
