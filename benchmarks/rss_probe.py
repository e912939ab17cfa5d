"""Resident memory per node of one engine, measured in a fresh interpreter.

Usage: ``python -m benchmarks.rss_probe ENGINE NODES`` (or ``python
benchmarks/rss_probe.py ENGINE NODES``). Builds a small chain first and
drops it (warming the allocators and the engine's own buffers), then reads the resident
set size, builds a chain of NODES nodes, reads it again while the chain is alive, and
prints one JSON object on the last line of stdout. Exit status 3 if the engine cannot
be imported (the reason on stderr).
"""
import gc
import json
import os
import sys

if __package__:
    from . import engines
else:                                   # run as a file: the package is one folder up
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import engines

WARMUP_NODES = 3_000


def rss_bytes():
    """The resident set size of this process, from ``/proc/self/statm`` (or psutil)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import psutil
        return psutil.Process().memory_info().rss


def main(argv):
    name, nodes = argv[1], int(argv[2])
    try:
        engine = engines.load(name)
    except engines.EngineUnavailable as exc:
        print(exc, file=sys.stderr)
        return 3
    if engine.kind != "graph":
        print(f"{name} builds no graph that outlives a call", file=sys.stderr)
        return 3
    repeats = nodes // engines.NODES_PER_REPEAT
    nodes = repeats * engines.NODES_PER_REPEAT

    a, b, x0 = engines.chain_leaves(engine)
    warm = engines.build_chain(engine.tanh, a, b, x0, WARMUP_NODES // engines.NODES_PER_REPEAT)
    del warm
    gc.collect()

    before = rss_bytes()
    root = engines.build_chain(engine.tanh, a, b, x0, repeats)
    after = rss_bytes()
    result = {
        "engine": name,
        "nodes": nodes,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_node": (after - before) / nodes,
        "root_data": engine.item(root),
    }
    if name == "fastgrad":                      # what the compiled tape has allocated
        import fastgrad
        tape = fastgrad.current_tape()
        result["tape_nbytes"] = tape.nbytes
        result["tape_capacity"] = tape.capacity
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
