"""Instructions per step under callgrind: the tensor workloads without the machine's noise.

Usage::

    python -m benchmarks.instructions                       # pulsar step and seed-000 call
    python -m benchmarks.instructions --workloads pulsar --backends fastgrad.Tensor,numpy
    python -m benchmarks.instructions --workloads large_columns,large --steps 3

Why
---
The timed suite's figures move by up to ±30% from run to run on a shared machine, and
the small tensor workloads have targets close to the hand-written numpy floor (the
pulsar step within 0.2x of autograd's time, where the floor itself sits near 0.2x). An
instruction count does not depend on what else the machine is doing: run twice under
``valgrind --tool=callgrind``, it gives the same figure to within 1.5%.

How
---
Each backend runs in a fresh interpreter under callgrind twice: set-up and ``WARMUP``
steps, then the same plus ``--steps`` more. The difference over ``--steps`` is the
instructions one step costs, with imports, set-up and first-call costs cancelled out.
BLAS, OpenMP and PyTorch run on one thread (a spinning worker thread would add
instructions that do no work; callgrind counts every thread). The workloads and
backends are the timed suite's own (``tensor_backends``), the same step code.

valgrind counts a ``rep stos``/``rep movs`` instruction once per byte it writes, and
glibc's memset and memcpy use them for blocks above a few kB: code that zero-fills its
output (``ndarray.dot`` does) would be over-counted several times over. The children run
with ``GLIBC_TUNABLES`` raising those thresholds, so glibc uses its vector loops there,
counted one instruction per 32 bytes, as they run.

What it does not say: instructions are not time. Memory traffic, cache misses, branch
mispredictions and the speed of the interpreter's instructions against BLAS's are not
in the count. Use it next to the timed suite, as the stable view of how much work each
backend does per step.

Writes ``benchmarks/results/instructions.md`` (``--out``) and prints it. The parent
process needs only the standard library; valgrind must be on ``PATH``.
"""
import argparse
import functools
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import backends as _backends      # standard library only, as this parent side

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "instructions.md"



#: workload -> (label in the table, unit of one step)
WORKLOADS = {
    "pulsar": ("pulsar MLP step (seed 001, batch 100)", "step"),
    "seed000": ("seed-000 grad call", "call"),
    "large_columns": ("large MLP step, the seed's columns (784-512-512-10 tanh, MSE)", "step"),
    "large": ("large MLP step, rows (784-512-512-10 relu, cross-entropy, float64)", "step"),
}
#: the workloads counted by default (a large MLP step is ~1e9 instructions: ask for it)
DEFAULT_WORKLOADS = ("pulsar", "seed000")
#: counted by default, in the registry's order; ``ACCEPTED`` adds the other tensor ones
BACKENDS = tuple(b.name for b in _backends.REGISTRY if b.counted)
ACCEPTED = tuple(n for n in _backends.names("tensor")
                 if n not in ("reference", "micrograd"))
#: the rows every other row is divided by, when they were measured
VS = (("numpy", "x numpy floor"), ("autograd", "x autograd"))
WARMUP = 20
STEPS = 300
#: the children's environment: BLAS and OpenMP on one thread, and glibc's memset/memcpy
#: kept off ``rep stos``/``rep movs`` (valgrind counts those once per byte)
CHILD_ENV = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                    "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
CHILD_ENV["GLIBC_TUNABLES"] = ("glibc.cpu.x86_rep_stosb_threshold=1000000000:"
                               "glibc.cpu.x86_rep_movsb_threshold=1000000000")

_COLLECTED = re.compile(r"^==\d+==\s+Collected\s*:\s*(\d+)\s*$", re.MULTILINE)


class MeasurementError(RuntimeError):
    """A run under callgrind failed or printed no instruction count."""


def _tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


# ---- the parent: runs the children under callgrind, divides, writes the table ----------------

def collected(stderr):
    """The instruction count callgrind prints at exit (``==pid== Collected : N``)."""
    found = _COLLECTED.findall(stderr)
    if len(found) != 1:
        raise MeasurementError(
            "callgrind printed " + ("no" if not found else f"{len(found)}") +
            " 'Collected :' line (expected one); its output ended with:\n" + _tail(stderr))
    return int(found[0])


def per_step(count_short, count_long, steps):
    """Instructions of one step, from the run with ``steps`` more steps than the other."""
    if steps <= 0:
        raise ValueError(f"steps must be positive, got {steps}")
    if count_long < count_short:
        raise MeasurementError(f"the longer run counted fewer instructions ({count_long:,}) "
                               f"than the shorter one ({count_short:,})")
    return (count_long - count_short) / steps


def _valgrind():
    path = shutil.which("valgrind")
    if path is None:
        raise MeasurementError("valgrind is not installed (or not on PATH): install it, "
                               "e.g. apt-get install valgrind")
    return path


def _count(valgrind, workload, backend, warmup, steps):
    env = dict(os.environ, **CHILD_ENV)
    cmd = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-m", "benchmarks.instructions", "--child",
           workload, backend, str(warmup), str(steps)]
    proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MeasurementError(f"{backend} on {workload}: the run under callgrind failed "
                               f"(exit {proc.returncode}):\n" + _tail(proc.stderr))
    return collected(proc.stderr)


def measure(workload, backend, warmup=WARMUP, steps=STEPS, valgrind=None):
    """Instructions per step of ``backend`` on ``workload`` (two runs under callgrind)."""
    valgrind = valgrind or _valgrind()
    short = _count(valgrind, workload, backend, warmup, 0)
    long = _count(valgrind, workload, backend, warmup, steps)
    return per_step(short, long, steps)


def table(results, steps, context="", warmup=WARMUP):
    """Markdown: one row per (workload, backend) with its count and ratios.

    ``results`` maps workload -> {backend: instructions per step, or a reason string when
    the backend was not measured}.
    """
    lines = ["## Instructions per step (callgrind)", ""]
    if context:
        lines += [context, ""]
    lines += [f"Each figure: (instructions of set-up + {warmup} + {steps} steps) - "
              f"(set-up + {warmup} steps), over {steps}. `x numpy floor`, `x autograd`: "
              "this row's count / that row's (below 1: fewer instructions).", ""]
    lines.append("| workload | backend | instructions per step | " +
                 " | ".join(title for _, title in VS) + " |")
    lines.append("|---|---|---:|" + "---:|" * len(VS))
    notes = []
    for workload, rows in results.items():
        label = WORKLOADS[workload][0]
        for backend, value in rows.items():
            if isinstance(value, str):
                notes.append(f"{backend} on {label}: {value}")
                cells = ["—"] * (1 + len(VS))
            else:
                cells = [f"{value:,.0f}"]
                for name, _ in VS:
                    base = rows.get(name)
                    cells.append(f"{value / base:.3g}x" if isinstance(base, float) and base
                                 else "—")
            lines.append(f"| {label} | {backend} | " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Not measured:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _context(version, backends):
    """The run's header line; ``version(dist)`` is ``harness.version``."""
    dists = ["fastgrad", "numpy"] + [b for b in ("autograd", "torch", "jax") if b in backends]
    versions = [f"{d} {version(d)}" for d in dists if version(d)]
    return (f"Python {platform.python_version()} on {platform.machine()}; "
            f"{time.strftime('%Y-%m-%d')}; " + ", ".join(versions) +
            "; BLAS, OpenMP and PyTorch on one thread; glibc without rep stos/movs.")


# ---- the child: the step itself, run under callgrind -------------------------------------------

def _child(workload, backend, warmup, steps):
    from . import tensor_backends as tb            # numpy, fastgrad, the backend's library
    from .backends import modules
    if backend == "torch":
        modules("torch").set_num_threads(1)
    if workload == "pulsar":
        path, reason = tb.pulsar_csv()
        if path is None:
            raise SystemExit(reason)
        run = tb.make_step(backend, tb.PulsarProblem(path)).step
    elif workload == "large_columns":
        run = tb.make_step(backend, tb.LargeColumnsProblem()).step
    elif workload == "large":
        run = tb.make_step(backend, tb.LargeProblem("float64")).step
    elif workload == "seed000":
        grad, _ = tb.seed000_call(backend)
        run = functools.partial(grad, tb.seed000_arrays())     # no extra Python frame
    else:
        raise SystemExit(f"unknown workload {workload!r}")
    for _ in range(warmup + steps):
        run()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description="Instructions per step of the tensor workloads under valgrind's "
                    "callgrind: the noise-free companion of the timed suite.")
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS),
                        help=f"comma-separated, from {', '.join(WORKLOADS)} (default: "
                             f"{','.join(DEFAULT_WORKLOADS)})")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated (default: {','.join(BACKENDS)}; also "
                             f"accepted: {', '.join(n for n in ACCEPTED if n not in BACKENDS)})")
    parser.add_argument("--steps", type=int, default=STEPS,
                        help=f"steps counted, after the warm-up steps (default {STEPS})")
    parser.add_argument("--warmup", type=int, default=WARMUP,
                        help=f"warm-up steps in both runs (default {WARMUP})")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="markdown file to write (default: benchmarks/results/"
                             "instructions.md)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        workload, backend, warmup, steps = args.child
        _child(workload, backend, int(warmup), int(steps))
        return 0
    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    if args.warmup < 1:
        parser.error(f"--warmup must be at least 1 (first-call costs), got {args.warmup}")
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(WORKLOADS)}")
    backends = [b for b in args.backends.split(",") if b]
    unknown = [b for b in backends if b not in ACCEPTED]
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(ACCEPTED)}")
    try:
        valgrind = _valgrind()
    except MeasurementError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # a backend whose library is missing is a row with its reason, not a failed run
    from . import tensor_backends as tb
    from .backends import EngineUnavailable
    from .harness import version

    results = {}
    for workload in workloads:
        rows = results[workload] = {}
        for backend in backends:
            try:
                tb.require(backend)
            except EngineUnavailable as exc:
                rows[backend] = str(exc)
                continue
            print(f"{workload:8s} {backend:16s} ...", end="", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                rows[backend] = measure(workload, backend, args.warmup, args.steps, valgrind)
            except MeasurementError as exc:
                print(f"\nerror: {exc}", file=sys.stderr)
                return 1
            print(f" {rows[backend]:12,.0f} instructions/{WORKLOADS[workload][1]} "
                  f"({time.perf_counter() - t0:.0f} s under callgrind)", file=sys.stderr)
    text = table(results, args.steps, _context(version, backends), args.warmup)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
