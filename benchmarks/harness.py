"""Interleaved timing of every backend of one workload, the cross-check, and the context.

Why interleaved
---------------
pytest-benchmark times one test after another: backend A's rounds in minute one, B's in
minute two. On a shared two-core machine the load changes between those minutes, and the
ratio A/B then measures the machine as much as the code. Here all the backends of one
workload (one size, one dtype) are timed in the same stretch of time, round by round:

1. each backend's first call (untimed unless it has no warm-up) gives the outputs the
   backends are cross-checked on; then its remaining warm-up calls;
2. round ``r`` runs every backend due in that round once, in an order rotated by ``r``
   (no backend always follows the same one); a backend with fewer rounds than the
   campaign is spread evenly over it;
3. before every sample: ``gc.collect()`` (no backend pays for another's garbage), then a
   pause of ``PAUSE`` seconds, so that BLAS/OpenMP worker threads a backend left spinning
   have gone to sleep before the next one is timed.

While a campaign runs, the objects that existed when it started (modules, the backends'
models and data) are moved out of the collector's reach with ``gc.freeze()``: with
PyTorch imported a full ``gc.collect()`` otherwise costs ~0.1 s, and the collections the
garbage collector starts by itself during a sample (micrograd's graphs are reference
cycles) would scan them too, so a backend's figure would depend on what else the process
has imported. ``gc.unfreeze()`` at the end puts them back.

The samples are then handed to each test's ``benchmark`` fixture (``record``), so the
pytest-benchmark table and ``--benchmark-json`` show them as usual: median, min, rounds.

A backend whose code raises is dropped from the campaign and its test fails with the
error; the other backends carry on.
"""
import gc
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

import numpy as np

#: seconds between two samples (after ``gc.collect()``)
PAUSE = 0.05


# ---- the campaign ----------------------------------------------------------------------------

@dataclass
class Entry:
    """One backend of a campaign.

    ``sample(first)`` runs one timed sample and returns ``(times, outputs)``: ``times`` a
    dict ``{phase: seconds}`` (one phase, or several timed within one run, such as
    ``build`` and ``backward``), each for ``iterations`` calls; ``outputs`` what the
    cross-check compares, needed only when ``first`` is true (else None).
    """

    name: str
    sample: Callable
    rounds: int
    warmup: int = 1
    iterations: int = 1
    samples: dict = field(default_factory=dict)     # phase -> [seconds per sample]
    outputs: object = None
    error: str = ""


class Campaign:
    """All the backends of one workload, timed round by round in the same stretch of time.

    Parameters
    ----------
    title : str
        For messages.
    quick : bool
        One untimed call per backend and no pause (``--benchmark-disable``: the suite as a
        smoke test).
    pause : float
        Seconds between samples.
    """

    def __init__(self, title, quick=False, pause=PAUSE):
        self.title = title
        self.quick = quick
        self.pause = 0.0 if quick else pause
        self.entries = {}
        self.seconds = 0.0

    def add(self, name, make, rounds, warmup=1, iterations=1):
        """Add backend ``name``: ``make()`` returns its ``sample`` function (set-up code
        that raises marks the backend as failed, like a sample that raises)."""
        if self.quick:
            rounds, warmup = 1, 0
        entry = Entry(name, None, rounds, warmup, iterations)
        try:
            entry.sample = make()
        except Exception:                               # noqa: BLE001  (reported by the test)
            entry.error = traceback.format_exc()
        self.entries[name] = entry

    def _call(self, entry, first, keep):
        if entry.error:
            return
        gc.collect()
        if self.pause:
            time.sleep(self.pause)
        try:
            times, outputs = entry.sample(first)
        except Exception:                               # noqa: BLE001  (reported by the test)
            entry.error = traceback.format_exc()
            return
        if first:
            entry.outputs = outputs
        if keep:
            for phase, seconds in times.items():
                entry.samples.setdefault(phase, []).append(seconds)

    def run(self):
        start = time.perf_counter()
        entries = list(self.entries.values())
        gc.collect()
        gc.freeze()
        try:
            self._run(entries)
        finally:
            gc.unfreeze()
        self.seconds = time.perf_counter() - start
        return self

    def _run(self, entries):
        for e in entries:                               # warm-up; the first call is checked
            for w in range(e.warmup):
                self._call(e, first=(w == 0), keep=False)
        total = max((e.rounds for e in entries), default=0)
        due = {e.name: {int((i + 0.5) * total / e.rounds) for i in range(e.rounds)}
               for e in entries}
        for r in range(total):
            now = [e for e in entries if r in due[e.name]]
            k = r % len(now) if now else 0
            for e in now[k:] + now[:k]:
                self._call(e, first=(e.warmup == 0 and not e.samples), keep=True)

    def entry(self, name):
        return self.entries[name]


def record(benchmark, seconds, iterations=1):
    """Give pytest-benchmark samples measured elsewhere (seconds per sample of
    ``iterations`` calls): its table, ``stats`` and JSON then show them as its own.

    Uses ``BenchmarkFixture._make_stats``, the constructor ``pedantic`` itself calls (in
    pytest-benchmark 3.x to 5.x): ``pedantic`` cannot time several backends in turn.
    """
    benchmark._mode = "harness.record(...)"     # what pedantic sets: "the fixture was used"
    if benchmark.disabled or not seconds:
        return
    make = getattr(benchmark, "_make_stats", None)
    if make is None:
        raise RuntimeError("this pytest-benchmark has no BenchmarkFixture._make_stats; "
                           "the suite was written against pytest-benchmark 4 and 5")
    stats = make(iterations)
    for s in seconds:
        stats.update(s)


def selected(request, tests, **fixed):
    """The ``backend`` parameters of the collected (and selected) items of ``tests`` whose
    other parameters (those they have) equal ``fixed``: a campaign times only what the run
    asked for."""
    names = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or getattr(item, "originalname", item.name) not in tests:
            continue
        params = callspec.params
        if all(params.get(k, v) == v for k, v in fixed.items()) and "backend" in params:
            names.add(params["backend"])
    return names


def availability(reason_of, require):
    """``available(name)``: None if backend ``name`` runs, else ``(reason, kind)``.

    ``reason_of(name)`` gives the reason a backend does not apply (or None);
    ``require(name)`` raises ``EngineUnavailable`` when it cannot be imported (or lacks
    a fastgrad function: ``MissingAPI``).
    """
    from .backends import EngineUnavailable, MissingAPI

    def available(name):
        reason = reason_of(name)
        if reason:
            return reason, "not applicable"
        try:
            require(name)
        except MissingAPI as exc:
            return str(exc), "not in this fastgrad"
        except EngineUnavailable as exc:
            return str(exc), "not installed"
        return None
    return available


def skip_unless_available(available, not_run, row):
    """Record and skip ``row`` unless ``available(row["backend"])``."""
    why = available(row["backend"])
    if why:
        not_run(why[0], why[1], **row)


def campaign_of(request, campaigns, key, title, quick, tests, names, available, add,
                **fixed):
    """The campaign ``key`` (run once per session): every backend of ``names`` that the
    run selected (items of ``tests`` with parameters ``fixed``) and that is available is
    added by ``add(campaign, name)``, then all are timed together."""
    if key not in campaigns:
        campaign = Campaign(title, quick=quick)
        wanted = selected(request, tests, **fixed)
        for name in names:
            if name in wanted and available(name) is None:
                add(campaign, name)
        campaigns[key] = campaign.run()
    return campaigns[key]


def finish(benchmark, campaign, name, row, verdict, failures, summary, label, unit, scale,
           note="", phase="step", **extra):
    """Record ``name``'s samples of ``phase`` in its ``benchmark`` row with the check
    and context, print its line in the summary, then fail on a mismatch."""
    entry = campaign.entry(name)
    benchmark.group = campaign.title
    benchmark.extra_info.update(row, check=verdict, note=note, **extra,
                                **backend_context(name))
    record(benchmark, entry.samples.get(phase, []), entry.iterations)
    if benchmark.stats:
        figure = benchmark.stats.stats.median * scale
        benchmark.extra_info["per_step"] = figure
        summary(f"{label:22} {name:16} {figure:10.4g} {unit}  [{verdict}]")
    assert not failures, "\n".join(failures)


# ---- cross-checks -----------------------------------------------------------------------------

def relative_error(a, b):
    """``max|a - b| / max(max|a|, max|b|)``: 0 for equal arrays, inf for a nan or a shape
    mismatch."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    diff = np.max(np.abs(a - b), initial=0.0)
    if not np.isfinite(diff) or not np.isfinite(scale):
        return float("inf")
    return 0.0 if diff == 0.0 else float(diff / scale)


def worst(mine, theirs):
    """Largest ``relative_error`` over the labels two outputs (dicts ``label -> array``)
    share, and its label; inf if they share none."""
    labels = [k for k in mine if k in theirs]
    if not labels:
        return float("inf"), "no common output"
    err, where = 0.0, ""
    for k in labels:
        e = relative_error(mine[k], theirs[k])
        if not e <= err:
            err, where = e, k
    return err, where


def entry_or_not_run(campaign, name, not_run, row):
    """Backend ``name``'s entry in ``campaign``; a backend that raised becomes an error row
    (``not_run`` fails the test with the traceback)."""
    entry = campaign.entry(name)
    if entry.error:
        not_run(f"{name} raised:\n{entry.error}", "error", **row)
    return entry


def outputs_of(campaign):
    """Every backend's outputs in ``campaign``, for ``cross_check`` (those that ran)."""
    return {n: e.outputs for n, e in campaign.entries.items() if not e.error}


def cross_check(name, outputs, tolerance):
    """Compare backend ``name``'s outputs with every other backend's.

    ``outputs`` maps backend -> dict ``label -> array`` (None for a backend that did not
    run); ``tolerance(a, b)`` gives the relative tolerance of a pair. Returns
    ``(verdict, failures)``: the text for ``extra_info["check"]`` and the failed pairs.
    """
    mine = outputs.get(name)
    if mine is None:
        return "MISMATCH: no outputs", [f"{name}: no outputs to check"]
    verdicts, failures = [], []
    for other, theirs in outputs.items():
        if other == name or theirs is None:
            continue
        tol = tolerance(name, other)
        err, where = worst(mine, theirs)
        verdicts.append(f"vs {other} {err:.1e}" + ("" if err <= tol else " (!)"))
        if not err <= tol:
            failures.append(f"{name} vs {other}: relative error {err:.3e} at {where} "
                            f"exceeds {tol:.0e}")
    if failures:
        return "MISMATCH: " + "; ".join(failures), failures
    if not verdicts:
        return "unverified (no other backend ran)", []
    tols = sorted({tolerance(name, o) for o, t in outputs.items() if o != name and t})
    return f"ok (tol {'/'.join(f'{t:.0e}' for t in tols)}) " + ", ".join(verdicts), []


# ---- versions and threads ---------------------------------------------------------------------

def version(dist):
    """The installed version of distribution ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def blas_threads():
    """Threads of numpy's OpenBLAS (asked from the library), or the environment's setting."""
    import ctypes
    import glob
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(lib, symbol):
                return int(getattr(lib, symbol)())
    return os.environ.get("OPENBLAS_NUM_THREADS", "?")


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "XLA_FLAGS")


def backend_context(name):
    """Versions and threads that matter to backend ``name``, for its ``extra_info``.

    ``versions`` maps library -> version; ``threads`` is a short text: how many threads
    the backend's numerics may use (pure-Python engines: one).
    """
    from .backends import get
    library = get(name).library
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    if library not in ("numpy", "torch"):
        versions[library] = version(library)
    if name in ("fastgrad", "reference", "micrograd"):
        threads = "1 (Python)"
    elif library == "torch":
        import torch
        versions["torch"] = torch.__version__
        threads = f"torch {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})"
    elif library == "jax":
        versions["jaxlib"] = version("jaxlib")
        threads = ("XLA " + (os.environ["XLA_FLAGS"] if os.environ.get("XLA_FLAGS")
                             else f"default ({os.cpu_count()} cores)"))
    elif library == "casadi":
        threads = "1 (CasADi's virtual machine)"
    elif library == "cfloor":
        threads = "1 (C, -O2)"
    else:                                               # fastgrad's arrays, autograd, numpy
        threads = f"BLAS {blas_threads()}"
    return {"versions": versions, "threads": threads}


def session_context():
    """Everything about the run's libraries and threads, for the JSON's header."""
    from .backends import REGISTRY
    dists = list(dict.fromkeys([b.library for b in REGISTRY if b.library != "cfloor"]
                               + ["jaxlib", "pytest-benchmark", "matplotlib"]))
    libs = {d: version(d) for d in dists}
    from . import cfloor                    # the C floor's compiler, not a distribution
    libs["C compiler"] = cfloor.compiler_version()
    info = {"python": platform.python_version(), "executable": sys.executable,
            "cpu_count": os.cpu_count(), "libraries": libs,
            "environment": {v: os.environ.get(v) for v in THREAD_VARIABLES},
            "numpy_blas_threads": blas_threads(), "pause_between_samples_s": PAUSE}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    return info
