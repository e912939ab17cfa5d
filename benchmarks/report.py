"""Tables, distilled figures and a chart of a benchmark run, with every backend's ratios.

Usage::

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python -m benchmarks.report bench.json          # or: python benchmarks/report.py ...
    python -m benchmarks.report bench.json --out somewhere/ --no-plot

Writes into the output folder (default ``benchmarks/results/``):

``results.json``
    One record per row (workload, size, dtype, backend): median and min seconds, the
    per-unit figures, the ratios, the check, versions and threads; rows that were not run
    with the reason. Plus the run's context (machine, libraries, thread settings).
``results.md``
    The markdown tables (also printed): scalar and tensor workloads, each with its targets.
``ratios.png``
    Each backend's time relative to fastgrad's, per workload, on a log scale (matplotlib;
    if it is missing the other two files are still written and a message says so).

Ratios: ``x fastgrad`` is this row's time divided by fastgrad's in the same run, size and
dtype (above 1: slower than fastgrad); the baseline is ``fastgrad`` (the ``Value``
engine) for the scalar workloads, ``fastgrad.Tensor`` for the tensor training steps and
``fastgrad.grad`` for the seed-000 call. ``vs X`` columns are the other way round, as in
the README: X's figure divided by this row's (above 1: this row is faster); the targets
use them. Standard library only, except matplotlib for the chart.
"""
import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"


def _registry():
    """``benchmarks/backends.py``, imported as part of the package or, when this file is
    run as a script (``python benchmarks/report.py``), from its file."""
    if __package__:
        from . import backends
        return backends
    spec = importlib.util.spec_from_file_location("fastgrad_bench_backends",
                                                  HERE / "backends.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


backends = _registry()

# workload: (label, family, unit of the per-unit figure, what one unit is)
WORKLOADS = {
    "chain_build": ("chain build", "scalar", "ns/node", "node"),
    "chain_backward": ("chain backward", "scalar", "ns/node", "node"),
    "chain_build_backward": ("chain build+backward", "scalar", "ns/node", "node"),
    "chain_memory": ("chain memory", "scalar", "bytes/node", "node"),
    "mlp_step": ("MLP step", "scalar", "ms/step", "step"),
    "tensor_pulsar_step": ("pulsar MLP step", "tensor", "µs/step", "step"),
    "tensor_large_mlp_step": ("large MLP step", "tensor", "ms/step", "step"),
    "tensor_large_mlp_columns_step": ("large MLP step, columns", "tensor", "ms/step", "step"),
    "tensor_seed000_grad": ("seed-000 grad call", "tensor", "µs/call", "call"),
    "hessian_rosenbrock": ("Rosenbrock Hessian", "hessian", "µs/call", "call"),
    "hessian_pulsar_hvp": ("pulsar loss HVP", "hessian", "µs/call", "call"),
    "function_chain_replay": ("chain replay", "function", "ns/node", "node"),
    "function_chain_replay_grad": ("chain replay+grad", "function", "ns/node", "node"),
    "function_mlp_vmap_step": ("MLP step, vmap", "function", "ms/step", "step"),
}
UNIT_SCALE = {"ns/node": 1e9, "ms/step": 1e3, "µs/step": 1e6, "µs/call": 1e6}

#: the row order of each family: the registry's
FAMILY_BACKENDS = {f: backends.names(f) for f in ("scalar", "tensor", "hessian", "function")}
BASELINE = {"tensor_pulsar_step": "fastgrad.Tensor", "tensor_large_mlp_step": "fastgrad.Tensor",
            "tensor_large_mlp_columns_step": "fastgrad.Tensor",
            "tensor_seed000_grad": "fastgrad.grad", "hessian_rosenbrock": "fastgrad.grad",
            "hessian_pulsar_hvp": "fastgrad.grad", "function_chain_replay": "fastgrad.Function",
            "function_chain_replay_grad": "fastgrad.Function",
            "function_mlp_vmap_step": "fastgrad.Function"}          # the rest: "fastgrad"


def _vs(*names):
    """``vs X`` columns: (title, backend), titles from the registry."""
    return tuple((backends.get(n).title, n) for n in names)


#: the "vs X" columns of each family's table
FAMILY_VS = {"scalar": _vs("reference", "micrograd"),
             "tensor": _vs("torch", "autograd", "numpy"),
             "hessian": _vs("autograd", "torch.func", "torch.double_backward", "jax",
                            "casadi"),
             "function": _vs("fastgrad", "casadi", "jax", "torch.func", "numpy", "cfloor")}
SCALAR_VS, TENSOR_VS = FAMILY_VS["scalar"], FAMILY_VS["tensor"]

# (description, workload, "vs reference"/"vs micrograd" ratio at least, or "max" per-unit
#  figure at most, bound) for the fastgrad rows
TARGETS = [
    ("compiled build >= 3x faster per node than reference", "chain_build", "vs reference", 3.0),
    ("compiled backward >= 25x faster per node than reference", "chain_backward",
     "vs reference", 25.0),
    ("compiled engine <= 80 bytes per node", "chain_memory", "max", 80.0),
    ("MLP step >= 3x faster than reference", "mlp_step", "vs reference", 3.0),
    ("MLP step >= 50x faster than micrograd", "mlp_step", "vs micrograd", 50.0),
]
# (description, workload, baseline backend, kind, bound) for every fastgrad row of the
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
    ("large MLP step, columns: fastgrad <= 1.1x the numpy floor",
     "tensor_large_mlp_columns_step", "numpy", "time", 1.1),
]
# issue 12 (Hessians) and issue 14 (Function): as above, plus the one fastgrad row checked
SECOND_ORDER_TARGETS = [
    ("Rosenbrock Hessian: fastgrad.hessian >= 3x faster than autograd", "hessian_rosenbrock",
     "autograd", "speedup", 3.0, "fastgrad.grad"),
    ("Rosenbrock Hessian: fastgrad.hessian faster than torch.func.hessian",
     "hessian_rosenbrock", "torch.func", "speedup", 1.0, "fastgrad.grad"),
    ("Rosenbrock Hessian: fastgrad.hessian faster than torch's double backward",
     "hessian_rosenbrock", "torch.double_backward", "speedup", 1.0, "fastgrad.grad"),
    ("Rosenbrock Hessian: F.hessian faster than CasADi's hessian", "hessian_rosenbrock",
     "casadi", "speedup", 1.0, "fastgrad.Function"),
    ("Rosenbrock Hessian: F.hessian faster than autograd's hessian", "hessian_rosenbrock",
     "autograd", "speedup", 1.0, "fastgrad.Function"),
    ("pulsar HVP: fastgrad >= 3x faster than autograd", "hessian_pulsar_hvp", "autograd",
     "speedup", 3.0, "fastgrad.grad"),
    ("pulsar HVP: fastgrad faster than torch.func jvp(grad)", "hessian_pulsar_hvp",
     "torch.func", "speedup", 1.0, "fastgrad.grad"),
    ("pulsar HVP: fastgrad faster than torch's double backward", "hessian_pulsar_hvp",
     "torch.double_backward", "speedup", 1.0, "fastgrad.grad"),
    ("chain replay+grad: Function >= 8x faster than eager fastgrad",
     "function_chain_replay_grad", "fastgrad", "speedup", 8.0, "fastgrad.Function"),
    ("chain replay+grad: Function faster than CasADi", "function_chain_replay_grad", "casadi",
     "speedup", 1.0, "fastgrad.Function"),
    ("MLP vmap step: Function >= 25x faster than eager fastgrad", "function_mlp_vmap_step",
     "fastgrad", "speedup", 25.0, "fastgrad.Function"),
    ("MLP vmap step: Function faster than torch.func.vmap(grad)", "function_mlp_vmap_step",
     "torch.func", "speedup", 1.0, "fastgrad.Function"),
]


# ---- reading the run ----------------------------------------------------------------------------

def _backend(info):
    return info.get("backend") or info.get("engine") or "?"


def _size(info):
    if info.get("size"):
        return info["size"]
    if info.get("nodes"):
        return f"{info['nodes']:,} nodes"
    return ""


def _versions(info):
    if isinstance(info.get("versions"), dict):
        return info["versions"]
    keys = ("python", "numpy", "fastgrad", "autograd", "torch", "micrograd", "jax")
    return {k: info[k] for k in keys if k in info}                  # older runs: flat keys


def _threads(info):
    if isinstance(info.get("threads"), str):
        return info["threads"]
    if "torch_threads" in info:
        return f"torch {info['torch_threads']}"
    blas = info.get("numpy_blas_threads")
    return "" if blas is None else f"BLAS {blas}"


def rows_of(data):
    """The distilled rows of a pytest-benchmark JSON: one dict per (workload, size,
    dtype, backend), run or not, sorted; ratios filled in."""
    rows = []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        workload = info.get("workload")
        if workload not in WORKLOADS:
            continue
        label, family, unit, per = WORKLOADS[workload]
        stats = bench["stats"]
        check = info.get("check", "")
        row = {
            "workload": workload, "label": label, "family": family,
            "size": _size(info), "nodes": info.get("nodes"), "layers": info.get("layers", ""),
            "dtype": info.get("dtype", "float64"), "backend": _backend(info),
            "status": "mismatch" if check.startswith("MISMATCH") else "ok",
            "median_s": stats["median"], "min_s": stats["min"],
            "rounds": stats["rounds"], "iterations": stats.get("iterations", 1),
            "unit": unit, "check": check, "note": info.get("note", ""),
            "versions": _versions(info), "threads": _threads(info),
        }
        if workload == "chain_memory":
            row["per_unit"] = row["per_unit_min"] = info.get("bytes_per_node")
        else:
            n = info.get("nodes") if per == "node" else 1
            row["per_unit"] = row["median_s"] / n * UNIT_SCALE[unit]
            row["per_unit_min"] = row["min_s"] / n * UNIT_SCALE[unit]
        rows.append(row)
    for skipped in data.get("fastgrad_suite", {}).get("rows_not_run", []):
        workload = skipped.get("workload")
        if workload not in WORKLOADS:
            continue
        label, family, unit, _ = WORKLOADS[workload]
        rows.append({
            "workload": workload, "label": label, "family": family,
            "size": skipped.get("size", ""), "nodes": skipped.get("nodes"),
            "layers": skipped.get("layers", ""), "dtype": skipped.get("dtype", "float64"),
            "backend": skipped.get("backend", "?"),
            "status": "error" if skipped.get("kind") == "error" else "not run",
            "kind": skipped.get("kind", ""), "reason": skipped.get("reason", ""),
            "unit": unit,
        })
    _sort(rows)
    _ratios(rows)
    return rows


def _sort(rows):
    order = list(WORKLOADS)

    def key(r):
        names = FAMILY_BACKENDS[r["family"]]
        rank = names.index(r["backend"]) if r["backend"] in names else len(names)
        return (order.index(r["workload"]), r["nodes"] or 0, r["dtype"] != "float64",
                r["dtype"], rank, r["backend"])
    rows.sort(key=key)


def _group(r):
    return r["workload"], r["size"], r["dtype"]


def _ratios(rows):
    ran = {(_group(r), r["backend"]): r for r in rows if "median_s" in r}
    for r in rows:
        if "median_s" not in r:
            continue
        figure = "per_unit" if r["workload"] == "chain_memory" else "median_s"
        base = ran.get((_group(r), BASELINE.get(r["workload"], "fastgrad")))
        r["baseline"] = BASELINE.get(r["workload"], "fastgrad")
        r["x_fastgrad"] = (r[figure] / base[figure]
                           if base and base.get(figure) and r.get(figure) is not None else None)
        r["x_fastgrad_min"] = (r["min_s"] / base["min_s"]
                               if base and figure == "median_s" and base["min_s"] else None)
        vs = FAMILY_VS[r["family"]]
        r["vs"] = {}
        for _, other in vs:
            theirs = ran.get((_group(r), other))
            r["vs"][other] = (theirs[figure] / r[figure]
                              if theirs and r.get(figure) and theirs.get(figure) is not None
                              else None)


# ---- markdown --------------------------------------------------------------------------------

def _time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _num(x):
    """4 significant digits, without exponents below 1e7."""
    return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"


def _ratio(x):
    if x is None:
        return ""
    return f"{x:,.0f}x" if x >= 1e3 else f"{x:.3g}x"


_ERR = re.compile(r"vs ([\w.]+):? ([0-9.]+e[+-]\d+)")


def _short_check(check):
    """``ok, 4 others, worst 2.8e-13 (tol 1e-09)`` from the suite's long verdicts."""
    if check.startswith("MISMATCH"):
        return "**" + check + "**"
    prefix = ""
    if check.startswith("grads") and "; " in check:       # "grads float64; ok ..."
        prefix, check = check.split("; ", 1)
        prefix += "; "
    errors = [float(e) for _, e in _ERR.findall(check)]
    tol = re.search(r"tol ([0-9e./+-]+)", check)
    if not check.startswith("ok") or not errors:
        return prefix + check
    others = [n for n, _ in _ERR.findall(check)]
    whom = others[0] if len(others) == 1 else f"{len(others)} others"
    return (f"{prefix}ok vs {whom}, worst {max(errors):.1e}"
            + (f" (tol {tol.group(1)})" if tol else ""))


def _notes_index(rows):
    """Footnote number per distinct reason of the rows not run, in order of appearance."""
    index = {}
    for r in rows:
        if r["status"] in ("not run", "error") and r["reason"] not in index:
            index[r["reason"]] = len(index) + 1
    return index


def _not_run_cells(r, index, ncols):
    n = index[r["reason"]]
    what = "error" if r["status"] == "error" else "not run"
    return ["—"] * ncols, f"{what} [{n}]"


#: the summary's columns after fastgrad's own time: (title, backend)
SUMMARY_PEERS = _vs("reference", "micrograd", "autograd", "torch", "torch.func",
                    "torch.double_backward", "jax", "jax.nojit", "casadi", "numpy", "cfloor")


def summary(rows):
    """One line per workload, size and dtype: fastgrad's median time and every peer's time
    as a multiple of it (above 1: fastgrad is faster); memory rows compare bytes per node."""
    groups = {}
    for r in rows:
        groups.setdefault(_group(r), []).append(r)
    present = [(t, b) for t, b in SUMMARY_PEERS
               if any(r["backend"] == b and "median_s" in r for r in rows)]
    head = ("| workload | size | fastgrad | " + " | ".join(t for t, _ in present) + " |\n"
            + "|---|---|---:|" + "---:|" * len(present))
    lines = [head]
    for (workload, size, dtype), members in groups.items():
        by = {r["backend"]: r for r in members}
        base = by.get(BASELINE.get(workload, "fastgrad"))
        if not base or "median_s" not in base:
            continue
        label = members[0]["label"] + (f" ({dtype})" if dtype != "float64" else "")
        if workload == "chain_memory":
            own = f"{base['per_unit']:.1f} B/node"
        else:
            own = _time(base["median_s"]) + (f" ({_num(base['per_unit'])} {base['unit']})"
                                             if base["unit"] == "ns/node" else "")
        cells = []
        for _, b in present:
            r = by.get(b)
            cells.append(_ratio(r["x_fastgrad"]) if r and r.get("x_fastgrad") else "—")
        lines.append(f"| {label} | {size} | {own} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scalar_table(rows, index):
    vs_titles = " | ".join(f"vs {t}" for t, _ in SCALAR_VS)
    lines = [f"| workload | size | backend | median | min | per unit (median / min) "
             f"| x fastgrad | {vs_titles} | rounds | threads | check |",
             "|---|---:|---|---:|---:|---:|---:|" + "---:|" * len(SCALAR_VS) + "---:|---|---|"]
    for r in rows:
        head = f"| {r['label']} | {r['size']} | {r['backend']} |"
        if "median_s" not in r:
            cells, check = _not_run_cells(r, index, 5 + len(SCALAR_VS))
            lines.append(f"{head} {' | '.join(cells)} | | {check} |")
            continue
        if r["workload"] == "chain_memory":
            median = f"{_time(r['median_s'])} (process)"
            minimum = ""
            per = f"{_num(r['per_unit'])} {r['unit']}"
        else:
            median, minimum = _time(r["median_s"]), _time(r["min_s"])
            per = f"{_num(r['per_unit'])} / {_num(r['per_unit_min'])} {r['unit']}"
        ratios = " | ".join(_ratio(r["vs"][o]) for _, o in SCALAR_VS)
        rounds = f"{r['rounds']}" + (f" x {r['iterations']}" if r["iterations"] > 1 else "")
        lines.append(f"{head} {median} | {minimum} | {per} | {_ratio(r['x_fastgrad'])} | "
                     f"{ratios} | {rounds} | {r['threads']} | {_short_check(r['check'])} |")
    return "\n".join(lines)


def tensor_table(rows, index, vs=TENSOR_VS):
    """The table of the array workloads (tensor, hessian, function families), with the
    ``vs`` columns given."""
    vs_titles = " | ".join(f"vs {t}" for t, _ in vs)
    lines = [f"| workload | size | dtype | backend | median | min | x fastgrad | {vs_titles} "
             "| rounds x steps | threads | check |",
             "|---|---|---|---|---:|---:|---:|" + "---:|" * len(vs) + "---:|---|---|"]
    for r in rows:
        size = r["size"] + (f", {r['layers']}" if r["layers"] else "")
        head = f"| {r['label']} | {size} | {r['dtype']} | {r['backend']} |"
        if "median_s" not in r:
            cells, check = _not_run_cells(r, index, 4 + len(vs))
            lines.append(f"{head} {' | '.join(cells)} | | {check} |")
            continue
        ratios = " | ".join(_ratio(r["vs"][o]) for _, o in vs)
        mark = "" if r["backend"] != r["baseline"] else " (baseline)"
        lines.append(f"| {r['label']} | {size} | {r['dtype']} | {r['backend']}{mark} | "
                     f"{_num(r['per_unit'])} {r['unit']} | "
                     f"{_num(r['per_unit_min'])} {r['unit']} | {_ratio(r['x_fastgrad'])} | "
                     f"{ratios} | {r['rounds']} x {r['iterations']} | {r['threads']} | "
                     f"{_short_check(r['check'])} |")
    return "\n".join(lines)


def targets(rows):
    lines = ["| target | measured | met |", "|---|---|---|"]
    for text, workload, what, bound in TARGETS:
        found = []
        for r in rows:
            if r["workload"] != workload or r["backend"] != "fastgrad" or "median_s" not in r:
                continue
            value = r["per_unit"] if what == "max" else r["vs"].get(what[3:])
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


def tensor_targets(rows):
    lines = ["| target | measured (each fastgrad row) | met |", "|---|---|---|"]
    for text, workload, other, kind, bound, *only in TENSOR_TARGETS + SECOND_ORDER_TARGETS:
        if WORKLOADS[workload][1] not in {r["family"] for r in rows}:
            continue                                    # another family's table
        mine = only[0] if only else None
        found = []
        dtypes = {x["dtype"] for x in rows if x["workload"] == workload and "median_s" in x}
        for r in rows:
            if (r["workload"] != workload or "median_s" not in r
                    or not (r["backend"] == mine if mine else
                            r["backend"].startswith("fastgrad"))):
                continue
            speedup = r["vs"].get(other)
            if speedup is None:
                continue
            ok = speedup >= bound if kind == "speedup" else 1.0 / speedup <= bound
            shown = f"{speedup:.3g}x faster" if kind == "speedup" else f"{1.0 / speedup:.3g}x"
            where = r["backend"] + (f" {r['dtype']}" if len(dtypes) > 1 else "")
            found.append((f"{where}: {shown}", ok))
        if not found:
            ran = any(r["workload"] == workload and "median_s" in r for r in rows)
            why = (f" (no {mine or 'fastgrad'} row or no row of {backends.get(other).title})"
                   if ran else "")
            lines.append(f"| {text} | not measured{why} | ? |")
            continue
        met = "yes" if all(ok for _, ok in found) else "**NO**"
        lines.append(f"| {text} | {'; '.join(m + ('' if ok else ' (missed)') for m, ok in found)}"
                     f" | {met} |")
    return "\n".join(lines)


def _context_lines(data, rows):
    ctx = data.get("fastgrad_suite", {}).get("context", {})
    libs = ctx.get("libraries", {})
    shown = ", ".join(f"{k} {v}" for k, v in libs.items() if v) or "?"
    missing = ", ".join(k for k, v in libs.items() if not v)
    env = ", ".join(f"{k}={v}" for k, v in ctx.get("environment", {}).items() if v)
    threads = {}
    for r in rows:
        if r.get("threads"):
            threads.setdefault(r["backend"], r["threads"])
    lines = [f"- libraries: {shown}" + (f" (not installed: {missing})" if missing else "")]
    if ctx:
        lines.append(f"- {ctx.get('cpu_count', '?')} cores; numpy BLAS threads "
                     f"{ctx.get('numpy_blas_threads', '?')}; torch threads "
                     f"{ctx.get('torch_threads', '?')} (interop "
                     f"{ctx.get('torch_interop_threads', '?')}); environment: {env or 'none set'}")
    if threads:
        lines.append("- threads per backend: " + "; ".join(f"{b}: {t}"
                                                           for b, t in threads.items()))
    return lines


def markdown(data, rows):
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {}).get("brand_raw", machine.get("machine", "?"))
    ctx = data.get("fastgrad_suite", {}).get("context", {})
    pause = ctx.get("pause_between_samples_s")
    method = ("All backends of a workload are timed interleaved, round by round, after "
              "warm-up" + (f", with gc.collect() and a {pause * 1e3:.0f} ms pause before each "
                           "sample" if pause else "") + ". " if ctx else
              "(An older run: backends timed one after the other.) ")
    header = (f"Python {machine.get('python_version', '?')} on {cpu}; "
              f"{data.get('datetime', '?')}. " + method + "Median and min of the samples; "
              "`x fastgrad`: this row's time / the baseline's (above 1: slower than "
              "fastgrad); `vs X`: X's figure / this row's (above 1: this row is faster).")
    index = _notes_index(rows)
    scalar = [r for r in rows if r["family"] == "scalar"]
    tensor = [r for r in rows if r["family"] == "tensor"]
    second = {f: [r for r in rows if r["family"] == f] for f in ("hessian", "function")}
    out = ["## Summary", "",
           "fastgrad's median time (for `chain memory`: bytes per node) and each peer's as a "
           "multiple of it: above 1, fastgrad is faster. — : not run (see below). Baseline "
           "rows: `Value` for the scalar workloads, `Tensor` for the training steps, `grad` "
           "for the seed-000 call.", "", summary(rows), ""]
    if scalar:
        out += ["## Scalar workloads", "", header, "",
                "Baseline: `fastgrad` (the `Value` engine). Memory rows: `x fastgrad` and "
                "`vs` compare bytes per node; their time is the whole probe process.", "",
                scalar_table(scalar, index), "", "### Targets (compiled engine)", "",
                targets(scalar), ""]
    if tensor:
        out += ["## Tensor workloads", "", header, "",
                "Baseline: `fastgrad.Tensor` for the training steps, `fastgrad.grad` for the "
                "seed-000 call.", "", tensor_table(tensor, index), "",
                "### Targets (tensor engine)", "", tensor_targets(tensor), ""]
    for family, title, text in (
            ("hessian", "Hessians and Hessian-vector products",
             "Baseline: `fastgrad.grad` (`fastgrad.hessian`, `hessian_vector_product`). "
             "`jax` is `jax.jit`-compiled (compiled in the warm-up), `jax.nojit` is not."),
            ("function", "Recorded once, replayed (fastgrad.Function)",
             "Baseline: `fastgrad.Function`; `fastgrad` is the eager engine (record and "
             "sweep every time). `jax` is `jax.jit`-compiled: its compile time is in the "
             "row's note, not in its figure.")):
        if second[family]:
            out += [f"## {title}", "", header, "", text, "",
                    tensor_table(second[family], index, FAMILY_VS[family]), "",
                    "### Targets", "", tensor_targets(second[family]), ""]
    if index:
        out += ["## Rows not run", ""]
        for reason, n in index.items():
            who = sorted({f"{r['backend']} ({r['label']})" for r in rows
                          if r.get("reason") == reason},
                         key=lambda s: s)
            lines = reason.strip().splitlines()
            if len(lines) > 2 and "Traceback" in lines[1]:      # an error: its last line
                text = f"{lines[0]} {lines[-1].strip()} (traceback in results.json)"
            else:
                text = " ".join(lines)
            if len(text) > 600:
                text = text[:600] + " ..."
            out.append(f"{n}. {text} — {', '.join(who)}")
        out.append("")
    out += ["## Versions and threads", ""] + _context_lines(data, rows) + [""]
    return "\n".join(out)


# ---- results.json ----------------------------------------------------------------------------

def distilled(data, rows, source):
    keep = ("workload", "label", "size", "nodes", "layers", "dtype", "backend", "status",
            "kind", "reason", "median_s", "min_s", "rounds", "iterations", "unit", "per_unit",
            "per_unit_min", "baseline", "x_fastgrad", "x_fastgrad_min", "vs", "check", "note",
            "versions", "threads")
    out = []
    for r in rows:
        d = {k: r[k] for k in keep if k in r}
        if "vs" in d:
            d["vs"] = {f"speedup_vs_{k}": v for k, v in d["vs"].items()}
        out.append(d)
    return {
        "source": str(source),
        "datetime": data.get("datetime"),
        "machine": data.get("machine_info", {}),
        "context": data.get("fastgrad_suite", {}).get("context", {}),
        "ratios": {"x_fastgrad": "this row's median time / the baseline's (same run, workload, "
                                 "size, dtype); for chain_memory bytes per node",
                   "speedup_vs_X": "X's median figure / this row's"},
        "rows": out,
    }


# ---- ratios.png ------------------------------------------------------------------------------

COLORS = {b.name: b.color for b in backends.REGISTRY}


def _short_size(r):
    if r["nodes"]:
        n = r["nodes"]
        return f"{n // 1000}k nodes" if n % 1000 == 0 else f"{n:,} nodes"
    text = r["size"]
    return text + (f" {r['dtype']}" if r["family"] == "tensor" and r["dtype"] != "float64"
                   else "")


def plot(rows, path):
    """Bar chart of ``x fastgrad`` per workload (log scale); False if matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels = []
    for family, names, title in (
            ("scalar", FAMILY_BACKENDS["scalar"], "Scalar workloads: time / fastgrad (Value)'s"),
            ("tensor", FAMILY_BACKENDS["tensor"],
             "Tensor workloads: time / fastgrad.Tensor's (seed-000: / fastgrad.grad's)"),
            ("hessian", FAMILY_BACKENDS["hessian"],
             "Hessians: time / fastgrad.grad's (fastgrad.hessian, hessian_vector_product)"),
            ("function", FAMILY_BACKENDS["function"],
             "Replay: time / fastgrad.Function's")):
        timed = [r for r in rows if r["family"] == family and r.get("x_fastgrad")
                 and r["workload"] != "chain_memory"]
        if not timed:
            continue
        groups = []
        for r in timed:
            if _group(r) not in groups:
                groups.append(_group(r))
        backends = [b for b in names if any(r["backend"] == b and r["backend"] != r["baseline"]
                                            for r in timed)]
        panels.append((title, groups, backends, timed))
    if not panels:
        return True
    fig, axes = plt.subplots(len(panels), 1, figsize=(15, 5.2 * len(panels)), squeeze=False)
    for ax, (title, groups, backends, timed) in zip(axes[:, 0], panels):
        by = {(_group(r), r["backend"]): r for r in timed}
        width = 0.8 / max(len(backends), 1)
        placed = {b: ([], []) for b in backends}
        for i, g in enumerate(groups):                  # the bars of a group side by side
            present = [b for b in backends
                       if (g, b) in by and by[(g, b)]["backend"] != by[(g, b)]["baseline"]]
            for j, b in enumerate(present):
                placed[b][0].append(i + (j - (len(present) - 1) / 2) * width)
                placed[b][1].append(by[(g, b)]["x_fastgrad"])
        for b in backends:
            xs, ys = placed[b]
            # bars start at the baseline (1): up is slower than fastgrad, down is faster
            bars = ax.bar(xs, [y - 1.0 for y in ys], width, bottom=1.0, label=b,
                          color=COLORS.get(b), hatch="//" if b == "fastgrad.grad" else None,
                          edgecolor="white")
            for bar, y in zip(bars, ys):
                ax.annotate(_ratio(y), (bar.get_x() + bar.get_width() / 2, y),
                            ha="center", va="bottom" if y >= 1 else "top", fontsize=7,
                            xytext=(0, 2 if y >= 1 else -2), textcoords="offset points")
        ax.axhline(1.0, color="black", lw=1, label="fastgrad = 1")
        ax.set_yscale("log")
        labels = []
        for g in groups:
            r = next(r for r in timed if _group(r) == g)
            labels.append(f"{r['label']}\n{_short_size(r)}")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ymin = min(min(r["x_fastgrad"] for r in timed), 1.0)
        ymax = max(max(r["x_fastgrad"] for r in timed), 1.0)
        ax.set_ylim(ymin / 2.5, ymax * 3)
        ax.set_ylabel("time / fastgrad's (log; above 1 = slower)")
        ax.set_title(title, fontsize=11)
        ax.grid(axis="y", which="major", alpha=0.3)
        ax.legend(fontsize=8, ncol=len(backends) + 1, loc="upper left")
    fig.text(0.01, 0.005, "Medians of interleaved samples in one run. A missing bar: the row "
             "was not run (see results.md). Memory rows are not times and are left out.",
             fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---- main ------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Tables, results.json and ratios.png from a pytest-benchmark JSON of "
                    "fastgrad's benchmark suite.")
    parser.add_argument("json", help="the file written by --benchmark-json")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="output folder (default: benchmarks/results/)")
    parser.add_argument("--no-plot", action="store_true", help="skip ratios.png")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        data = json.load(f)
    rows = rows_of(data)
    if not any("median_s" in r for r in rows):
        print(f"{args.json}: no benchmarks of this suite (no extra_info['workload'])",
              file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(data, rows)
    (out / "results.md").write_text(text)
    with open(out / "results.json", "w") as f:
        json.dump(distilled(data, rows, args.json), f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(text)
    written = [out / "results.json", out / "results.md"]
    if not args.no_plot:
        if plot(rows, out / "ratios.png"):
            written.append(out / "ratios.png")
        else:
            print("matplotlib is not installed: pip install matplotlib to draw ratios.png "
                  "(results.json and results.md were written)", file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
