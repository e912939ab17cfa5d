"""Fixtures of the benchmark suite: shared campaigns, skipped rows, a printed summary.

Run with ``pytest benchmarks --benchmark-only``; add ``--benchmark-json=out.json`` and
``python -m benchmarks.report out.json`` for the tables, ``results.json`` and the chart.

Every test is one (workload, size, dtype, backend) row. The rows of one workload and size
share one ``harness.Campaign``, run by the first of them, which times all the backends
interleaved; each test then checks its backend's outputs against the others' and hands
its samples to its ``benchmark`` fixture. A row that is not run (a library that is not
installed, a workload a backend cannot sensibly run) is skipped with the reason, and the
reason goes into the JSON (``output_json["fastgrad_suite"]["rows_not_run"]``) so the
report lists the row instead of leaving it out.
"""
import os

import pytest

# One OpenBLAS thread: the scalar workloads call no BLAS, but OpenBLAS threads started by
# importing numpy busy-wait for a while and compete with the measured thread on small
# machines; the tensor workloads then compare fastgrad, autograd and the numpy floor on the
# same single BLAS thread (PyTorch and XLA keep their own defaults; every row records its
# backend's thread count). Inherited by rss_probe. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from . import harness  # noqa: E402

_SUMMARY = pytest.StashKey[list]()
_NOT_RUN = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[_SUMMARY] = []
    config.stash[_NOT_RUN] = []


@pytest.fixture(scope="session")
def campaigns():
    """Campaigns already run in this session, by key (workload, size, dtype)."""
    return {}


@pytest.fixture
def quick(request):
    """True under ``--benchmark-disable``: one untimed call per backend, as a smoke test."""
    return bool(request.config.getoption("benchmark_disable", False))


@pytest.fixture
def not_run(request):
    """``not_run(reason, kind, **row)``: record a row that is not run, then skip it.

    ``kind`` is ``"not installed"``, ``"not applicable"`` or ``"error"`` (the last one
    fails the test instead of skipping it); ``row`` holds ``workload``, ``backend``,
    ``size``, ``dtype`` and whatever else identifies the row.
    """
    def skip(reason, kind, **row):
        request.config.stash[_NOT_RUN].append(dict(row, kind=kind, reason=reason,
                                                   test=request.node.nodeid))
        if kind == "error":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return skip


@pytest.fixture
def summary(request):
    """``summary(line)`` adds a line to the summary printed at the end of the run."""
    return request.config.stash[_SUMMARY].append


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["fastgrad_suite"] = {
        "rows_not_run": config.stash.get(_NOT_RUN, []),
        "context": harness.session_context(),
    }


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("fastgrad benchmark figures")
        for line in lines:
            terminalreporter.write_line(line)
    skipped = config.stash.get(_NOT_RUN, [])
    if skipped:
        terminalreporter.section("fastgrad benchmark rows not run")
        for row in skipped:
            terminalreporter.write_line(
                f"{row.get('workload')} {row.get('size', '')} {row.get('dtype', '')} "
                f"{row.get('backend')}: {row['reason']}")
