"""Markdown tables of a benchmark run, with every engine's ratio to the others.

Usage::

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

Rows are grouped by ``extra_info`` as the suite's tests record them: ``workload``,
``engine`` and ``nodes`` for the scalar engines; ``workload``, ``engine`` and ``dtype``
for the tensor workloads (``test_tensor.py``). A ratio ``vs X`` is how many times less
time (or memory) this row takes than engine X's row of the same workload, size and dtype
in the same run: above 1 is better. The scalar tables compare with the pure-Python
reference engine and micrograd; the tensor tables with PyTorch, HIPS autograd and the
hand-written numpy floor. The targets sections check the goals set for fastgrad. A
section whose workloads are not in the file is left out. Standard library only.
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


# ---- the tensor workloads (test_tensor.py) ---------------------------------------------------

# workload: (label, unit of the per-step figure, seconds per unit)
TENSOR_WORKLOADS = {
    "tensor_pulsar_step": ("pulsar MLP step", "µs/step", 1e-6),
    "tensor_large_mlp_step": ("large MLP step", "ms/step", 1e-3),
    "tensor_seed000_grad": ("seed-000 grad call", "µs/call", 1e-6),
}
TENSOR_ENGINES = ("fastgrad.grad", "fastgrad.Tensor", "autograd", "torch", "numpy")
# (column title, engine): the baselines every tensor row is compared with
TENSOR_BASELINES = (("PyTorch", "torch"), ("autograd", "autograd"), ("numpy floor", "numpy"))
_BASELINE_NAME = {"torch": "PyTorch", "autograd": "autograd", "numpy": "the numpy floor"}

# (description, workload, baseline engine, kind, bound) for every fastgrad row of the
# workload (each dtype): kind "time" asks fastgrad's time / the baseline's <= bound;
# kind "speedup" asks the baseline's time / fastgrad's >= bound.
TENSOR_TARGETS = [
    ("pulsar step: fastgrad <= 0.5x PyTorch's time", "tensor_pulsar_step", "torch",
     "time", 0.5),
    ("pulsar step: fastgrad <= 0.2x autograd's time", "tensor_pulsar_step", "autograd",
     "time", 0.2),
    ("pulsar step: fastgrad <= 1.5x the numpy floor", "tensor_pulsar_step", "numpy",
     "time", 1.5),
    ("large MLP step: fastgrad <= 1.1x the numpy floor", "tensor_large_mlp_step", "numpy",
     "time", 1.1),
    ("seed-000 grad call: fastgrad >= 13x faster than autograd", "tensor_seed000_grad",
     "autograd", "speedup", 13.0),
    ("seed-000 grad call: fastgrad >= 3x faster than PyTorch", "tensor_seed000_grad",
     "torch", "speedup", 3.0),
]


def _threads(info):
    if "torch_threads" in info:
        return f"torch {info['torch_threads']}"
    blas = info.get("numpy_blas_threads")
    return "" if blas is None else f"BLAS {blas}"


def tensor_rows_of(data):
    """One dict per tensor benchmark, sorted by workload, dtype and engine."""
    rows = []
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        workload = info.get("workload")
        if workload not in TENSOR_WORKLOADS:
            continue
        stats = bench["stats"]
        rows.append({
            "workload": workload,
            "engine": info.get("engine", "?"),
            "dtype": info.get("dtype", ""),
            "size": info.get("size", ""),
            "layers": info.get("layers", ""),
            "median": stats["median"],
            "rounds": stats["rounds"],
            "iterations": stats.get("iterations", bench.get("options", {}).get("iterations", 1)),
            "threads": _threads(info),
            "check": info.get("check", ""),
        })
    order = list(TENSOR_WORKLOADS)

    def key(r):
        engine = r["engine"]
        rank = TENSOR_ENGINES.index(engine) if engine in TENSOR_ENGINES else len(TENSOR_ENGINES)
        return order.index(r["workload"]), r["dtype"] != "float64", r["dtype"], rank, engine
    rows.sort(key=key)
    index = {(r["workload"], r["dtype"], r["engine"]): r for r in rows}
    for r in rows:
        for _, other in TENSOR_BASELINES:
            theirs = index.get((r["workload"], r["dtype"], other))
            r[f"vs {other}"] = theirs["median"] / r["median"] if theirs and r["median"] else None
    return rows


def tensor_table(rows):
    titles = " | ".join(f"vs {title}" for title, _ in TENSOR_BASELINES)
    lines = [f"| workload | size | dtype | engine | median | {titles} | rounds x steps "
             "| threads | check |",
             "|---|---|---|---|---:|" + "---:|" * len(TENSOR_BASELINES) + "---:|---|---|"]
    for r in rows:
        label, unit, scale = TENSOR_WORKLOADS[r["workload"]]
        size = r["size"] + (f", {r['layers']}" if r["layers"] else "")
        check = r["check"]
        if check.startswith("MISMATCH"):
            check = "**" + check + "**"
        ratios = " | ".join(_ratio(r[f"vs {other}"]) for _, other in TENSOR_BASELINES)
        lines.append(f"| {label} | {size} | {r['dtype']} | {r['engine']} | "
                     f"{r['median'] / scale:.4g} {unit} | {ratios} | "
                     f"{r['rounds']} x {r['iterations']} | {r['threads']} | {check} |")
    return "\n".join(lines)


def tensor_targets(rows):
    lines = ["| target | measured (each fastgrad row) | met |", "|---|---|---|"]
    for text, workload, other, kind, bound in TENSOR_TARGETS:
        found = []
        for r in rows:
            if r["workload"] != workload or not r["engine"].startswith("fastgrad"):
                continue
            speedup = r[f"vs {other}"]
            if speedup is None:
                continue
            ok = speedup >= bound if kind == "speedup" else 1.0 / speedup <= bound
            shown = f"{speedup:.3g}x faster" if kind == "speedup" else f"{1.0 / speedup:.3g}x"
            dtypes = {x["dtype"] for x in rows if x["workload"] == workload}
            where = r["engine"] + (f" {r['dtype']}" if len(dtypes) > 1 else "")
            found.append((f"{where}: {shown}", ok))
        if not found:
            ran = any(r["workload"] == workload for r in rows)
            why = f" (no fastgrad row or no row of {_BASELINE_NAME[other]})" if ran else ""
            lines.append(f"| {text} | not measured{why} | ? |")
            continue
        met = "yes" if all(ok for _, ok in found) else "**NO**"
        lines.append(f"| {text} | {'; '.join(m + ('' if ok else ' (missed)') for m, ok in found)}"
                     f" | {met} |")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python benchmarks/report.py BENCHMARK.json", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        data = json.load(f)
    rows = rows_of(data)
    trows = tensor_rows_of(data)
    if not rows and not trows:
        print(f"{argv[1]}: no benchmarks of this suite (no extra_info['workload'])",
              file=sys.stderr)
        return 1
    machine = data.get("machine_info", {})
    header = (f"Python {machine.get('python_version', '?')} on "
              f"{machine.get('cpu', {}).get('brand_raw', machine.get('machine', '?'))}; "
              "median of the rounds; ratios: that engine's figure / this row's (above 1 is "
              "better).\n")
    if rows:
        print(f"## fastgrad scalar benchmarks ({data.get('datetime', '?')})\n")
        print(header)
        print(table(rows))
        print("\n### Targets (compiled engine)\n")
        print(targets(rows))
    if trows:
        if rows:
            print()
        print(f"## fastgrad tensor benchmarks ({data.get('datetime', '?')})\n")
        print(header)
        print(tensor_table(trows))
        print("\n### Targets (tensor engine)\n")
        print(tensor_targets(trows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
