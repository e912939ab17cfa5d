"""Per-sample value and gradient of a ~200-instruction scalar model over many samples:
one numpy call on one thread, a loop over chunks on one thread, and Dask (the
synchronous scheduler, the threaded scheduler with 2 threads, a ``LocalCluster`` of 2
worker processes), per-sample results and ``reduce="mean"``, at several chunk sizes.

Run ``python -m benchmarks.dask_scaling`` (it prints the table and, with ``--write``,
writes ``benchmarks/results/dask.md``), or ``pytest benchmarks/test_dask.py
--benchmark-only`` (the same campaign, one pytest-benchmark row per mode and chunk size).

Sizes: ``FASTGRAD_DASK_SAMPLES`` (default 4e5; the issue's full size is 1e7) and
``FASTGRAD_DASK_CHUNKS`` (default ``1e4,3e4,1e5``; at full size ``1e4,1e5,1e6``),
``FASTGRAD_DASK_ROUNDS`` (default 5). The default is smaller than the issue's 1e7 because
this machine's 2 cores are shared. The compiled sweep works on 64 samples at a time, so
its work space does not grow with the batch; the arrays of a call (the batched inputs,
the gradients, the per-sample results) do: the one-call row runs only where they fit in
``ONE_CALL_LIMIT`` bytes; the loop over chunks is then the single-thread baseline.

Figures
-------
* parallel efficiency = T1 / (2 x T), T1 the best single-thread time (the one call or
  the loop over chunks, at any chunk size), T this row's time, 2 the cores;
* CPU efficiency = CPU seconds of the best single-thread row / CPU seconds of this row
  (time x cores used): the work a mode adds (Dask, pickling, transfers), whatever share
  of the cores the machine's other jobs left; on idle cores the efficiency would come
  near it (with perfect balance);
* Dask's overhead per chunk = (T(dask.sync) - T(numpy.loop)) / chunks at that chunk
  size: what Dask adds to each chunk on one thread (graph, scheduling, concatenation);
* cores' time lost per chunk = (2 x T - T(numpy.loop)) / chunks: overhead and idle
  cores together;
* cores used = CPU seconds / wall seconds of the processes doing the work (this one,
  and for the cluster modes its 2 workers), median over the rounds: how many cores the
  mode kept busy, whatever else ran on the machine;
* each cluster worker's peak resident memory (``ru_maxrss``) after the chunk size's rows
  (the chunk sizes run in increasing order, so it is the peak up to that chunk size),
  against the work space one chunk needs.

All the modes of one chunk size are timed round by round, in an order rotated every
round, with ``gc.collect()`` and a pause before each sample (as ``harness`` does); the
first round's results are checked: per-sample results bit for bit against the numpy
path, the means against ``np.sum`` of the per-sample results to 1e-12 relative.
"""
import gc
import os
import platform
import sys
import time

import numpy as np

N_DEFAULT, N_FULL = 400_000, 10_000_000
CHUNKS_DEFAULT, CHUNKS_FULL = "1e4,3e4,1e5", "1e4,1e5,1e6"
ROUNDS_DEFAULT = 5
#: the largest work space (bytes) the one-numpy-call row may take
ONE_CALL_LIMIT = 2e9
PAUSE = 0.05
MODES = ("numpy.loop", "dask.sync", "dask.threads", "dask.threads.mean", "dask.cluster",
         "dask.cluster.mean", "dask.cluster.persist")
TERMS = 18


def model(p, x, y):
    """A squared error of a sum of ``TERMS`` nonlinear terms: ~200 instructions."""
    a, b, c, d = p
    s = 0.0
    for k in range(TERMS):
        s = s + (a * x + b * (k / TERMS)).tanh() * c + (d * x * k).sin() * 0.1
    r = s - y
    return r * r


def sizes():
    """(samples, chunk sizes, rounds) from the environment."""
    n = int(float(os.environ.get("FASTGRAD_DASK_SAMPLES", N_DEFAULT)))
    chunks = [int(float(c)) for c in
              os.environ.get("FASTGRAD_DASK_CHUNKS", CHUNKS_DEFAULT).split(",")]
    rounds = int(os.environ.get("FASTGRAD_DASK_ROUNDS", ROUNDS_DEFAULT))
    return n, sorted(c for c in chunks if c < n), rounds


class Campaign:
    """The data, the Function, the cluster; ``run()`` times every mode."""

    def __init__(self, n, chunks, rounds, quick=False):
        import dask
        import dask.array as da
        import distributed

        import fastgrad
        self.dask, self.da, self.distributed = dask, da, distributed
        self.n, self.chunks, self.rounds, self.quick = n, chunks, rounds, quick
        self.F = fastgrad.trace(model, [0.5, 0.2, 1.0, 0.3], 0.3, 0.1)
        self.B = self.F.vmap((None, 0, 0))
        rng = np.random.default_rng(16)
        self.P = np.array([0.7, 0.1, 0.9, 0.2])
        self.X = rng.normal(size=n)
        self.Y = rng.normal(size=n)
        n_in = self.F.program.n_inputs
        # a call's arrays per sample: the batched inputs and the gathered gradients (one
        # number an input each), the value and the per-sample gradient returned
        self.bytes_per_sample = 8 * (2 * n_in + 1 + len(self.P))
        # the sweep's work space, whatever the batch: 64 samples of values, partials
        # (two an instruction) and adjoints
        self.work_space = 8 * 64 * (2 * self.F.program.n_instructions
                                    + 2 * self.F.program.n_slots + 8)
        with dask.config.set({"distributed.comm.timeouts.connect": "5s"}):
            self.cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=40)
        self.client = distributed.Client(self.cluster, set_as_default=False)
        self.times = {}              # (mode, chunk) -> [seconds]
        self.rss = {}                # chunk -> [peak bytes of each worker]
        self.cores = {}              # (mode, chunk) -> [CPU seconds / wall seconds]
        self.checks = []
        self.one_call = self.n * self.bytes_per_sample <= ONE_CALL_LIMIT

    def close(self):
        self.client.close()
        self.cluster.close()

    # ---- one sample of each mode ----------------------------------------------------

    def _runner(self, mode, c, data):
        dask, B, P = self.dask, self.B, self.P
        if mode == "numpy":
            return lambda: B.value_and_grad(P, self.X, self.Y)
        if mode == "numpy.loop":
            def loop():
                parts = [B.value_and_grad(P, self.X[j:j + c], self.Y[j:j + c])
                         for j in range(0, self.n, c)]
                return tuple(np.concatenate([p[k] for p in parts]) for k in (0, 1))
            return loop
        dX, dY = data[mode.split(".")[1] == "cluster"]
        scheduler = (dict(scheduler=self.client) if "cluster" in mode else
                     dict(scheduler="sync") if "sync" in mode else
                     dict(scheduler="threads", num_workers=2))
        if mode.endswith(".mean"):
            def reduced():
                with dask.config.set(**scheduler):
                    return B.value_and_grad(P, dX, dY, reduce="mean")
            return reduced

        if mode.endswith(".persist"):
            # per-sample results computed and kept on the workers (as a pipeline that
            # writes them out or reduces them later), not gathered into this process
            def kept():
                v, g = B.value_and_grad(P, dX, dY)
                kept = self.client.persist([v, g])
                with self.client.as_current():      # wait() asks for the current client
                    self.distributed.wait(self.distributed.futures_of(kept))
                return kept
            return kept

        def per_sample():
            v, g = B.value_and_grad(P, dX, dY)
            with dask.config.set(**scheduler):
                return dask.compute(v, g)
        return per_sample

    def _check(self, mode, c, out, reference):
        v, g = reference
        if mode.endswith(".persist"):
            out = self.dask.compute(*out, scheduler=self.client)   # gathered for the check
        if mode.endswith(".mean"):
            ok = (abs(out[0] - np.sum(v) / self.n) <= 1e-12 * abs(np.sum(v) / self.n)
                  and np.allclose(out[1], np.sum(g, axis=0) / self.n, rtol=1e-12, atol=0))
            what = "mean vs np.sum/N to 1e-12"
        else:
            ok = np.array_equal(out[0], v) and np.array_equal(out[1], g)
            what = "bit for bit vs numpy"
        self.checks.append((mode, c, ok, what))
        if not ok:
            raise AssertionError(f"{mode} at chunk {c}: results differ ({what})")

    def run(self):
        da, client = self.da, self.client
        reference = None
        if self.one_call:                    # the one numpy call, timed with the others
            for r in range(self.rounds if not self.quick else 1):
                self._sample("numpy", None, self._runner("numpy", None, None))
            reference = self.B.value_and_grad(self.P, self.X, self.Y)
        for c in self.chunks:
            local = (da.from_array(self.X, chunks=c), da.from_array(self.Y, chunks=c))
            on_cluster = tuple(client.persist(a) for a in local)   # the data on the workers
            from distributed import futures_of
            for f in futures_of(on_cluster):    # on the workers before the timing starts
                f.result()
            data = {False: local, True: on_cluster}
            runners = {m: self._runner(m, c, data) for m in MODES}
            ref = reference if reference is not None else runners["numpy.loop"]()
            for r in range(self.rounds if not self.quick else 1):
                order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
                for m in order:
                    out = self._sample(m, c, runners[m])
                    if r == 0:
                        self._check(m, c, out, ref)
            self.rss[c] = sorted(client.run(_peak_rss).values())
            del data, on_cluster, runners
        return self

    def _cpu(self, mode):
        """CPU seconds so far of the processes that run ``mode`` (this one; and the
        workers for the cluster modes)."""
        t = os.times()
        cpu = t.user + t.system
        if "cluster" in mode:
            cpu += sum(self.client.run(_cpu_seconds).values())
        return cpu

    def _sample(self, mode, c, run):
        gc.collect()
        if not self.quick:
            time.sleep(PAUSE)
        cpu = self._cpu(mode)
        t0 = time.perf_counter()
        out = run()
        wall = time.perf_counter() - t0
        self.times.setdefault((mode, c), []).append(wall)
        self.cores.setdefault((mode, c), []).append((self._cpu(mode) - cpu) / wall)
        return out

    # ---- figures ----------------------------------------------------------------------

    def median(self, mode, c):
        return float(np.median(self.times[(mode, c)]))

    def t1(self):
        """The best single-thread median: the one call or the loop at any chunk size."""
        return self._best()[0]

    def cpu1(self):
        """The CPU seconds of the best single-thread row (its median time x cores)."""
        t, key = self._best()
        return t * float(np.median(self.cores[key]))

    def _best(self):
        cands = [(self.median("numpy.loop", c), ("numpy.loop", c)) for c in self.chunks]
        if ("numpy", None) in self.times:
            cands.append((self.median("numpy", None), ("numpy", None)))
        return min(cands)

    def rows(self):
        """One dict per (mode, chunk): median, min, efficiency, overheads."""
        t1, cpu1, out = self.t1(), self.cpu1(), []
        if ("numpy", None) in self.times:
            t = self.times[("numpy", None)]
            out.append(dict(mode="numpy (one call)", chunk=self.n, chunks=1,
                            median=float(np.median(t)), min=min(t),
                            efficiency=t1 / float(np.median(t)), parallel=1,
                            cores=float(np.median(self.cores[("numpy", None)]))))
            out[-1]["cpu_efficiency"] = cpu1 / (out[-1]["median"] * out[-1]["cores"])
        for c in self.chunks:
            k = -(-self.n // c)
            loop = self.median("numpy.loop", c)
            for m in MODES:
                t = self.times[(m, c)]
                med = float(np.median(t))
                p = 1 if m in ("numpy.loop", "dask.sync") else 2
                row = dict(mode=m, chunk=c, chunks=k, median=med, min=min(t),
                           efficiency=t1 / (p * med), parallel=p,
                           cores=float(np.median(self.cores[(m, c)])))
                row["cpu_efficiency"] = cpu1 / (med * row["cores"])
                if m == "dask.sync":
                    row["overhead_ms"] = (med - loop) / k * 1e3
                if p == 2:
                    row["lost_ms"] = (2 * med - loop) / k * 1e3
                if m.startswith("dask.cluster"):
                    row["rss"] = self.rss.get(c)
                out.append(row)
        return out

    def table(self, command):
        import dask
        import distributed

        import fastgrad
        load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
        lines = [
            "# Dask: per-sample value and gradient, threads and processes", "",
            f"Produced by `{command}` on {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy "
            f"{np.__version__}, dask {dask.__version__}, distributed "
            f"{distributed.__version__}, fastgrad {fastgrad.__version__}; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at the "
            f"end {', '.join(f'{x:.2f}' for x in load)} (the 2 cores are shared with other "
            f"jobs).", "",
            f"Model: `benchmarks/dask_scaling.py::model`, {self.F.program.n_instructions} "
            f"instructions, {self.F.program.n_slots} slots; {self.n:,} samples "
            f"(`FASTGRAD_DASK_SAMPLES`; the issue's full size is {N_FULL:,}); "
            f"`B.value_and_grad(P, X, Y)` per sample (`dask.compute(v, g)`), or with "
            f"`reduce=\"mean\"`. The sweep's work space: {self.work_space / 1024:.0f} KB "
            f"whatever the chunk (64 samples at a time); a call's arrays: "
            f"{self.bytes_per_sample} bytes a sample. Medians of {self.rounds} rounds, "
            f"modes interleaved. Single-thread baseline T1 = {self.t1():.3f} s (the best "
            f"of the one numpy call and the loop over chunks).", "",
            "| mode | chunk | chunks | median s | min s | efficiency | cores used | CPU "
            "efficiency | Dask overhead ms/chunk | cores' time lost ms/chunk | worker peak "
            "RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in self.rows():
            rss = "/".join(f"{b / 2**20:.0f}" for b in r["rss"]) if r.get("rss") else ""
            cells = [r["mode"], f"{r['chunk']:,}", str(r["chunks"]), f"{r['median']:.3f}",
                     f"{r['min']:.3f}", f"{r['efficiency']:.2f}", f"{r['cores']:.2f}",
                     f"{r['cpu_efficiency']:.2f}",
                     f"{r['overhead_ms']:.3f}" if "overhead_ms" in r else "",
                     f"{r['lost_ms']:.3f}" if "lost_ms" in r else "", rss]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "A call's arrays for one chunk: " + ", ".join(
            f"{c:,} samples {c * self.bytes_per_sample / 2**20:.0f} MB" for c in self.chunks)
            + ".", "", "Checks: " + ("all passed" if all(ok for *_, ok, _ in self.checks)
                                     else "FAILED") + f" ({len(self.checks)}: per-sample "
            "results bit for bit against the numpy path, means against np.sum / N to "
            "1e-12)."]
        return "\n".join(lines) + "\n"


def _cpu_seconds():
    t = os.times()
    return t.user + t.system


def _peak_rss():
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024)


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/dask.md")
    parser.add_argument("--append", action="store_true",
                        help="append to benchmarks/results/dask.md (another size)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    n, chunks, rounds = sizes()
    env = " ".join(f"{k}={os.environ[k]}" for k in ("FASTGRAD_DASK_SAMPLES",
                                                    "FASTGRAD_DASK_CHUNKS",
                                                    "FASTGRAD_DASK_ROUNDS")
                   if k in os.environ)
    command = (env + " " if env else "") + "python -m benchmarks.dask_scaling" + (
        " --write" if args.write else "") + (" --append" if args.append else "")
    campaign = Campaign(n, chunks, rounds)
    try:
        campaign.run()
        text = campaign.table(command)
    finally:
        campaign.close()
    print(text)
    if args.write or args.append:
        from pathlib import Path
        path = Path(__file__).resolve().parent / "results" / "dask.md"
        if args.append and path.exists():
            text = path.read_text() + "\n" + text.replace("# Dask:", "## Another size: Dask:", 1)
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
