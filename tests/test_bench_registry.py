"""``benchmarks/backends.py``: the one registry of the suite's backends.

Issue 17 item 16: backend names were listed in four places that could drift apart. The
report and the callgrind counter now take theirs from the registry; these tests fail if
one of them lists a name of its own again, or if the registry's checks let a bad name
through. Skipped where ``benchmarks/`` is not beside the tests.
"""
import pytest
from bench_source import load

backends = load("backends")             # standard library only at import time
report = load("report")
instructions = load("instructions")


def test_names_are_unique_and_every_family_has_rows():
    all_names = backends.names()
    assert len(all_names) == len(set(all_names)) == len(backends.REGISTRY)
    for family in ("scalar", "tensor", "hessian", "function"):
        assert backends.names(family), family
    assert backends.names("scalar") == ("fastgrad", "reference", "micrograd", "autograd",
                                        "torch", "jax")


def test_the_report_and_the_counter_take_their_names_from_the_registry():
    for family, names in report.FAMILY_BACKENDS.items():
        assert names == backends.names(family)
    assert report.COLORS == {b.name: b.color for b in backends.REGISTRY}
    for _, name in report.SUMMARY_PEERS + sum(report.FAMILY_VS.values(), ()):
        backends.get(name)                              # raises on an unregistered name
    assert report.BASELINE.keys() <= report.WORKLOADS.keys()
    for workload, name in report.BASELINE.items():
        assert name in backends.names(report.WORKLOADS[workload][1]), (workload, name)
    assert set(instructions.BACKENDS) <= set(instructions.ACCEPTED) <= set(backends.names())
    assert instructions.BACKENDS == tuple(b.name for b in backends.REGISTRY if b.counted)


def test_pick_and_get_refuse_unregistered_names():
    assert backends.pick("numpy", "fastgrad.grad") == ("fastgrad.grad", "numpy")
    with pytest.raises(ValueError, match=r"unknown backend\(s\) \['tensorflow'\]; register"):
        backends.pick("numpy", "tensorflow")
    with pytest.raises(ValueError, match="unknown backend 'mxnet'; registered: fastgrad, "):
        backends.get("mxnet")


def test_a_missing_fastgrad_function_is_named(monkeypatch):
    pytest.importorskip("fastgrad")
    fastgrad, _ = backends.modules("fastgrad")
    assert backends.fastgrad_api("grad", "Tensor.backward") == (fastgrad.grad,
                                                                fastgrad.Tensor.backward)
    monkeypatch.delattr(fastgrad, "value_and_grad")
    with pytest.raises(backends.MissingAPI, match=r"fastgrad\.value_and_grad \(SPEC\.md"):
        backends.fastgrad_api("grad", "value_and_grad")
    with pytest.raises(backends.MissingAPI, match=r"fastgrad\.Tensor\.no_such_method"):
        backends.fastgrad_api("Tensor.no_such_method")


def test_a_library_that_is_not_installed_says_how_to_install_it(monkeypatch):
    def refuse(library):
        raise ImportError(f"No module named {library!r}")
    monkeypatch.setattr(backends, "_import", refuse)
    monkeypatch.setattr(backends, "_CACHE", {})
    with pytest.raises(backends.EngineUnavailable,
                       match=r"CasADi is not installed: pip install casadi to add it"):
        backends.require("casadi")
    with pytest.raises(backends.EngineUnavailable, match=r"pip install torch==2\.13\.0"):
        backends.require("torch.func")
