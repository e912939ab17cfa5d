"""The benchmark report's arithmetic, on a made-up pytest-benchmark run.

The README quotes the report's ratios, so the report is tested like the code: every
ratio is checked against figures worked out by hand. Skipped where ``benchmarks/`` is
not beside the tests (an installed-package run from elsewhere).
"""
import json

import pytest
from bench_source import load

report = load("report")                 # it needs only the standard library


def _bench(workload, backend, median, minimum, **info):
    info = dict(workload=workload, backend=backend, check="ok vs x: 1.0e-16 (tol 1e-12)",
                threads="1 (Python)", versions={"fastgrad": "0.1.0"}, **info)
    return {"extra_info": info, "stats": {"median": median, "min": minimum, "rounds": 5,
                                          "iterations": 1}}


@pytest.fixture
def run():
    chain = dict(nodes=1000, size="1,000 nodes")
    return {
        "datetime": "2026-11-22T00:00:00", "machine_info": {"python_version": "3.11"},
        "benchmarks": [
            _bench("chain_build", "fastgrad", 1e-4, 0.8e-4, **chain),
            _bench("chain_build", "reference", 2e-3, 1.6e-3, **chain),
            _bench("chain_build", "micrograd", 5e-3, 4e-3, **chain),
            _bench("chain_memory", "fastgrad", 0.2, 0.2, bytes_per_node=50.0, **chain),
            _bench("chain_memory", "reference", 0.5, 0.5, bytes_per_node=200.0, **chain),
            _bench("tensor_pulsar_step", "fastgrad.Tensor", 100e-6, 90e-6, size="batch 100"),
            _bench("tensor_pulsar_step", "fastgrad.grad", 120e-6, 95e-6, size="batch 100"),
            _bench("tensor_pulsar_step", "autograd", 600e-6, 500e-6, size="batch 100"),
            _bench("tensor_pulsar_step", "numpy", 80e-6, 70e-6, size="batch 100"),
        ],
        "fastgrad_suite": {"rows_not_run": [
            {"workload": "chain_build", "backend": "torch", "size": "1,000 nodes",
             "nodes": 1000, "kind": "not installed", "reason": "torch is not installed"},
        ]},
    }


def _row(rows, workload, backend):
    (row,) = [r for r in rows if r["workload"] == workload and r["backend"] == backend]
    return row


def test_ratios_are_worked_out_against_the_baseline(run):
    rows = report.rows_of(run)
    ref = _row(rows, "chain_build", "reference")
    assert ref["x_fastgrad"] == pytest.approx(20.0)             # 2 ms / 0.1 ms
    assert ref["x_fastgrad_min"] == pytest.approx(20.0)         # 1.6 ms / 0.08 ms
    fast = _row(rows, "chain_build", "fastgrad")
    assert fast["vs"]["reference"] == pytest.approx(20.0)
    assert fast["vs"]["micrograd"] == pytest.approx(50.0)
    assert fast["per_unit"] == pytest.approx(100.0)             # ns per node
    # memory compares bytes per node, not the probe's time
    assert _row(rows, "chain_memory", "reference")["x_fastgrad"] == pytest.approx(4.0)
    # tensor workloads: the baseline is fastgrad.Tensor
    grad = _row(rows, "tensor_pulsar_step", "fastgrad.grad")
    assert grad["baseline"] == "fastgrad.Tensor"
    assert grad["x_fastgrad"] == pytest.approx(1.2)
    assert grad["vs"]["autograd"] == pytest.approx(5.0)
    assert grad["vs"]["numpy"] == pytest.approx(80 / 120)
    assert _row(rows, "chain_build", "torch")["status"] == "not run"


def test_summary_table_has_one_line_a_workload(run):
    table = report.summary(report.rows_of(run))
    lines = table.splitlines()
    assert lines[0].startswith("| workload | size | fastgrad | reference | micrograd | "
                               "autograd | numpy floor |")       # absent peers: no column
    assert "| chain build | 1,000 nodes | 100 µs (100 ns/node) | 20x | 50x | — | — |" in lines
    assert "| chain memory | 1,000 nodes | 50.0 B/node | 4x | — | — | — |" in lines
    assert "| pulsar MLP step | batch 100 | 100 µs | — | — | 6x | 0.8x |" in lines
    assert len(lines) == 2 + 3


def test_targets_say_when_one_is_missed(run):
    text = report.tensor_targets(report.rows_of(run))
    # 120 µs / 600 µs = 0.2: the autograd target (<= 0.2x) is met by both rows
    assert "pulsar step: fastgrad <= 0.2x autograd's time" in text
    # 120 / 80 = 1.5 (met), and both must be listed
    assert "fastgrad.grad: 1.5x" in text and "fastgrad.Tensor: 1.25x" in text
    run["benchmarks"][5]["stats"]["median"] = 200e-6                # Tensor now 2.5x floor
    text = report.tensor_targets(report.rows_of(run))
    floor_line = [ln for ln in text.splitlines() if "numpy floor" in ln][0]
    assert "fastgrad.Tensor: 2.5x (missed)" in floor_line and floor_line.endswith("**NO** |")


def test_report_writes_its_three_files(run, tmp_path):
    source = tmp_path / "bench.json"
    source.write_text(json.dumps(run))
    out = tmp_path / "results"
    assert report.main([str(source), "--out", str(out)]) == 0
    md = (out / "results.md").read_text()
    assert md.startswith("## Summary") and "not run [1]" in md
    assert "torch is not installed" in md
    data = json.loads((out / "results.json").read_text())
    ref = [r for r in data["rows"] if r["backend"] == "reference"
           and r["workload"] == "chain_build"][0]
    assert ref["x_fastgrad"] == pytest.approx(20.0)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not (out / "ratios.png").exists()
    else:
        assert (out / "ratios.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_of_something_else_is_refused(tmp_path, capsys):
    source = tmp_path / "other.json"
    source.write_text(json.dumps({"benchmarks": [{"extra_info": {}, "stats": {}}]}))
    assert report.main([str(source), "--out", str(tmp_path / "r")]) == 1
    assert "no benchmarks of this suite" in capsys.readouterr().err


def test_second_order_rows_have_their_own_table_and_targets(run, tmp_path):
    """Hessian rows: the peers' ratios among themselves while fastgrad's row is not run
    (its SPEC function not installed yet), and the targets say so."""
    size = dict(size="n = 10", n=10)
    run["benchmarks"] += [
        _bench("hessian_rosenbrock", "autograd", 900e-6, 800e-6, **size),
        _bench("hessian_rosenbrock", "torch.func", 300e-6, 250e-6, **size),
        _bench("hessian_rosenbrock", "jax", 30e-6, 25e-6, **size),
    ]
    run["fastgrad_suite"]["rows_not_run"].append(
        {"workload": "hessian_rosenbrock", "backend": "fastgrad.grad", "size": "n = 10",
         "kind": "not in this fastgrad", "reason": "not in the installed fastgrad 0.1.0: "
                                                   "fastgrad.hessian (SPEC.md; ...)"})
    rows = report.rows_of(run)
    jax = _row(rows, "hessian_rosenbrock", "jax")
    assert jax["baseline"] == "fastgrad.grad" and jax["x_fastgrad"] is None
    assert jax["vs"]["autograd"] == pytest.approx(30.0)            # 900 µs / 30 µs
    assert jax["vs"]["torch.func"] == pytest.approx(10.0)
    assert _row(rows, "hessian_rosenbrock", "fastgrad.grad")["status"] == "not run"
    source = tmp_path / "bench.json"
    source.write_text(json.dumps(run))
    assert report.main([str(source), "--out", str(tmp_path / "r"), "--no-plot"]) == 0
    md = (tmp_path / "r" / "results.md").read_text()
    section = md.split("## Hessians and Hessian-vector products", 1)[1].split("\n## ", 1)[0]
    assert "| vs autograd | vs torch.func | vs double backward | vs JAX | vs CasADi |" in section
    assert "| Rosenbrock Hessian | n = 10 | float64 | jax | 30 µs/call |" in section
    assert ("| Rosenbrock Hessian: fastgrad.hessian >= 3x faster than autograd | not measured "
            "(no fastgrad.grad row or no row of autograd) | ? |") in section
    assert "fastgrad.hessian (SPEC.md" in md.split("## Rows not run", 1)[1]
    assert "Rosenbrock" not in report.summary(rows)     # no fastgrad figure: no summary line
