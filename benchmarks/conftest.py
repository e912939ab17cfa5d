"""Fixtures of the benchmark suite: one parametrised ``engine`` and a printed summary.

Run with ``pytest benchmarks --benchmark-only``; add ``--benchmark-json=out.json`` and
``python benchmarks/report.py out.json`` for the markdown table with ratios.
"""
import os
import sys
from pathlib import Path

import pytest

# One OpenBLAS thread: the scalar workloads call no BLAS, but OpenBLAS threads started by
# importing numpy busy-wait for a while and compete with the measured thread on small
# machines; the tensor workloads then compare fastgrad, autograd and the numpy floor on the
# same single BLAS thread (PyTorch keeps its own default; test_tensor.py records both
# counts in extra_info). Inherited by rss_probe.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:       # the helpers next to this file (engines, tiny_mlp)
    sys.path.insert(0, str(HERE))

import engines  # noqa: E402

_SUMMARY = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[_SUMMARY] = []


@pytest.fixture(params=engines.ENGINE_NAMES)
def engine(request):
    """Each engine in turn; skipped, with the reason, if it cannot be imported."""
    try:
        return engines.load(request.param)
    except engines.EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def summary(request):
    """``summary(line)`` adds a line to the summary printed at the end of the run."""
    return request.config.stash[_SUMMARY].append


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("fastgrad benchmark figures")
        for line in lines:
            terminalreporter.write_line(line)
