"""Batched Functions over Dask (issue 16): one numpy call, a loop over chunks, and Dask's
synchronous, threaded and ``LocalCluster`` (2 worker processes) schedulers, side by side.

``dask_scaling`` has the workload, the campaign (every mode of a chunk size timed round by
round, interleaved; the first round's results cross-checked) and the table; each test
here is one (mode, chunk size) row whose samples go to its ``benchmark`` fixture, with
its parallel efficiency and overheads in ``extra_info``. Sizes: the environment variables
of ``dask_scaling`` (a smaller default than the issue's 1e7 samples; see there). Under
``--benchmark-disable`` the campaign is one untimed round on 20,000 samples.
"""
import pytest

from . import dask_scaling as ds
from . import harness

N, CHUNKS, ROUNDS = ds.sizes()
ROWS = [("numpy", None)] + [(m, c) for c in CHUNKS for m in ds.MODES]


@pytest.fixture(scope="module")
def campaign(request):
    pytest.importorskip("dask.array")
    pytest.importorskip("distributed")
    quick = bool(request.config.getoption("benchmark_disable", False))
    n, chunks, rounds = (20_000, [5_000], 1) if quick else (N, CHUNKS, ROUNDS)
    c = ds.Campaign(n, chunks, rounds, quick=quick)
    try:
        c.run()
    finally:
        c.close()
    return c


@pytest.mark.parametrize("mode,chunk", ROWS, ids=[f"{m}-{c}" for m, c in ROWS])
def test_dask_value_and_grad(benchmark, campaign, summary, mode, chunk):
    if campaign.quick and chunk is not None:
        chunk = campaign.chunks[0]
    if (mode, chunk) not in campaign.times:
        pytest.skip(f"{mode} not run: {campaign.n:,} samples in one call would need "
                    f"{campaign.n * campaign.bytes_per_sample / 1e9:.1f} GB of arrays "
                    f"(over ONE_CALL_LIMIT); the loop over chunks is the baseline")
    row = next(r for r in campaign.rows() if r["chunk"] == (chunk or campaign.n)
               and (r["mode"] == mode or (mode == "numpy" and r["chunks"] == 1
                                          and r["mode"].startswith("numpy ("))))
    benchmark.group = f"Dask value_and_grad, {campaign.n:,} samples"
    benchmark.extra_info.update(
        workload="dask_value_and_grad", backend=mode, size=f"{campaign.n:,} samples",
        chunk=chunk, dtype="float64",
        **{k: row[k] for k in ("chunks", "efficiency", "overhead_ms", "lost_ms", "rss")
           if k in row})
    harness.record(benchmark, campaign.times[(mode, chunk)])
    summary(f"dask {mode:18} chunk {chunk or campaign.n:>9,}  median {row['median']:.3f} s"
            f"  efficiency {row['efficiency']:.2f}")
    failed = [c for c in campaign.checks if c[0] == mode and c[1] == chunk and not c[2]]
    assert not failed, failed
