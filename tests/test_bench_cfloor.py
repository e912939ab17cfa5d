"""``benchmarks/cfloor.py``: the chain in C by hand, the floor of the replay rows; built
at run time with the system's C compiler (skipped where there is none) and checked
against fastgrad.Function at both of the benchmark's values of a."""
import numpy as np
import pytest
from bench_source import load

from fastgrad import Function, Value

cfloor = load("cfloor")                 # numpy and the standard library only
backends = load("backends")


@pytest.fixture(scope="module")
def floor():
    try:
        return cfloor.load()
    except ImportError as exc:
        pytest.skip(f"no C floor here: {exc}")


@pytest.mark.parametrize("a", [0.9, 0.5])
def test_the_c_floor_computes_what_the_replay_does(floor, a):
    repeats = 3000
    leaves = [Value(a), Value(0.1), Value(0.5)]
    x = leaves[2]
    for _ in range(repeats):
        x = (x * leaves[0] + leaves[1]).tanh()
    F = Function(inputs=[leaves], outputs=x)
    value, grad = F.value_and_grad([a, 0.1, 0.5])
    v, g = floor.value_and_grad(a, 0.1, 0.5, repeats)
    assert v == value == floor.value(a, 0.1, 0.5, repeats)
    assert np.array_equal(g, grad)          # the same operations in the same order


def test_no_compiler_is_a_not_run_reason(monkeypatch):
    monkeypatch.setattr(cfloor, "_compiler", lambda: None)
    with pytest.raises(ImportError, match="no C compiler"):
        cfloor.load()
    monkeypatch.setitem(backends._CACHE, "cfloor", None)
    backends._CACHE.pop("cfloor")
    monkeypatch.setattr(backends, "_import", lambda library: cfloor.load())
    with pytest.raises(backends.EngineUnavailable, match="C compiler"):
        backends.modules("cfloor")


def test_a_failing_build_says_what_failed(monkeypatch):
    monkeypatch.setattr(cfloor, "_compiler", lambda: ["false"])
    with pytest.raises(ImportError, match="building chain_floor.c failed"):
        cfloor.load()


def test_the_compiler_version_is_one_line_or_none(monkeypatch):
    version = cfloor.compiler_version()
    assert version is None or (version and "\n" not in version)
    monkeypatch.setattr(cfloor, "_compiler", lambda: None)
    assert cfloor.compiler_version() is None
