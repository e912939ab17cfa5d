"""Markdown table of a benchmark run, with every engine's ratio to the others.

Usage::

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

Rows are grouped by ``extra_info`` (``workload``, ``engine``, ``nodes``) as the suite's
tests record them. ``vs reference`` and ``vs micrograd`` are how many times less time
(or memory) this row takes than that engine's row of the same workload and size in the
same run: above 1 is better. The targets section checks the goals set for the compiled
engine. Standard library only.
"""
import json
import sys

ENGINE_ORDER = ("fastgrad", "reference", "micrograd")

# workload: (label, extra_info key of the per-unit figure, unit, how to compute it)
WORKLOADS = {
    "chain_build": ("chain build", "ns/node"),
    "chain_backward": ("chain backward", "ns/node"),
    "chain_memory": ("chain memory", "bytes/node"),
    "mlp_step": ("MLP step", "ms/step"),
}

# (description, workload, nodes or None for every size, figure: "vs reference" or
#  "vs micrograd" ratio at least, or "max" per-unit figure at most)
TARGETS = [
    ("compiled build >= 3x faster per node than reference", "chain_build", "vs reference", 3.0),
    ("compiled backward >= 25x faster per node than reference", "chain_backward",
     "vs reference", 25.0),
    ("compiled engine <= 80 bytes per node", "chain_memory", "max", 80.0),
    ("MLP step >= 3x faster than reference", "mlp_step", "vs reference", 3.0),
    ("MLP step >= 50x faster than micrograd", "mlp_step", "vs micrograd", 50.0),
]


def _time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _figure(workload, bench):
    """The per-unit figure of a row: ns/node, bytes/node or ms/step."""
    info, median = bench["extra_info"], bench["stats"]["median"]
    if workload == "chain_memory":
        return info["bytes_per_node"]
    if workload == "mlp_step":
        return median * 1e3
    return median / info["nodes"] * 1e9


def rows_of(data):
    """One dict per benchmark of the suite, sorted by workload, size and engine."""
    rows = []
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        workload = info.get("workload")
        if workload not in WORKLOADS:
            continue
        rows.append({
            "workload": workload,
            "engine": info.get("engine", "?"),
            "nodes": info.get("nodes"),
            "median": bench["stats"]["median"],
            "rounds": bench["stats"]["rounds"],
            "figure": _figure(workload, bench),
            "check": info.get("check", ""),
        })
    order = list(WORKLOADS)

    def key(r):
        engine = r["engine"]
        rank = ENGINE_ORDER.index(engine) if engine in ENGINE_ORDER else len(ENGINE_ORDER)
        return order.index(r["workload"]), r["nodes"] or 0, rank, engine
    rows.sort(key=key)
    index = {(r["workload"], r["nodes"], r["engine"]): r for r in rows}
    for r in rows:
        for other in ("reference", "micrograd"):
            theirs = index.get((r["workload"], r["nodes"], other))
            r[f"vs {other}"] = theirs["figure"] / r["figure"] if theirs and r["figure"] else None
    return rows


def _ratio(x):
    return "" if x is None else f"{x:.3g}x"


def table(rows):
    lines = ["| workload | size | engine | median | per unit | vs reference | vs micrograd "
             "| rounds | check |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        label, unit = WORKLOADS[r["workload"]]
        size = f"{r['nodes']:,} nodes" if r["nodes"] else "100 points"
        median = _time(r["median"])
        if r["workload"] == "chain_memory":
            median += " (process)"
        check = r["check"]
        if check.startswith("MISMATCH"):
            check = "**" + check + "**"
        lines.append(f"| {label} | {size} | {r['engine']} | {median} | "
                     f"{r['figure']:.4g} {unit} | {_ratio(r['vs reference'])} | "
                     f"{_ratio(r['vs micrograd'])} | {r['rounds']} | {check} |")
    return "\n".join(lines)


def targets(rows):
    lines = ["| target | measured | met |", "|---|---|---|"]
    for text, workload, what, bound in TARGETS:
        mine = [r for r in rows if r["workload"] == workload and r["engine"] == "fastgrad"]
        found = []
        for r in mine:
            value = r["figure"] if what == "max" else r[what]
            if value is not None:
                found.append((r["nodes"], value))
        if not found:
            lines.append(f"| {text} | not measured | ? |")
            continue
        ok = all(v <= bound if what == "max" else v >= bound for _, v in found)
        unit = "B/node" if what == "max" else "x"
        measured = ", ".join(f"{v:.3g} {unit}" + (f" @ {n:,}" if n and len(found) > 1 else "")
                             for n, v in found)
        lines.append(f"| {text} | {measured} | {'yes' if ok else '**NO**'} |")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python benchmarks/report.py BENCHMARK.json", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        data = json.load(f)
    rows = rows_of(data)
    if not rows:
        print(f"{argv[1]}: no benchmarks of this suite (no extra_info['workload'])",
              file=sys.stderr)
        return 1
    machine = data.get("machine_info", {})
    print(f"## fastgrad scalar benchmarks ({data.get('datetime', '?')})\n")
    print(f"Python {machine.get('python_version', '?')} on "
          f"{machine.get('cpu', {}).get('brand_raw', machine.get('machine', '?'))}; "
          "median of the rounds; ratios: that engine's figure / this row's (above 1 is "
          "better).\n")
    print(table(rows))
    print("\n### Targets (compiled engine)\n")
    print(targets(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
