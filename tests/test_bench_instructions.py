"""``benchmarks/instructions.py``: callgrind's count parsed, per-step arithmetic, the table.

The README quotes its figures, so its arithmetic is tested on made-up counts; the one
test that runs valgrind for real is marked slow (it runs by default; ``-m "not slow"``
leaves it out). Skipped where ``benchmarks/`` is not beside the tests.
"""
import shutil
import subprocess
import sys

import pytest
from bench_source import ROOT, load

instructions = load("instructions")       # the parent side needs only the standard library


def test_collected_reads_callgrinds_count():
    stderr = ("==4242== Callgrind, a call-graph generating cache profiler\n"
              "==4242== Events    : Ir\n"
              "==4242== Collected : 987191051\n"
              "==4242== \n==4242== I   refs:      987,191,051\n")
    assert instructions.collected(stderr) == 987191051


@pytest.mark.parametrize("stderr, what", [
    ("Traceback (most recent call last):\nImportError: no module named fastgrad\n", "no"),
    ("==1== Collected : 10\n==2== Collected : 20\n", "2"),
])
def test_collected_refuses_output_without_exactly_one_count(stderr, what):
    with pytest.raises(instructions.MeasurementError,
                       match=rf"callgrind printed {what} 'Collected :' line"):
        instructions.collected(stderr)


def test_per_step_is_the_difference_over_the_extra_steps():
    assert instructions.per_step(1_000_000, 1_300_000, 300) == 1000.0
    with pytest.raises(ValueError, match="steps must be positive, got 0"):
        instructions.per_step(1, 2, 0)
    with pytest.raises(instructions.MeasurementError, match="counted fewer instructions"):
        instructions.per_step(2_000, 1_000, 10)


def test_table_divides_every_row_by_the_floor_and_by_autograd():
    results = {
        "pulsar": {"fastgrad.Tensor": 700_000.0, "autograd": 3_500_000.0,
                   "numpy": 650_000.0, "torch": "PyTorch is not installed: pip install ..."},
        "seed000": {"fastgrad.grad": 200_000.0, "numpy": 100_000.0},
    }
    text = instructions.table(results, steps=300, context="made-up")
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line
            for line in text.splitlines() if line.startswith("| ") and "workload" not in line}
    pulsar = instructions.WORKLOADS["pulsar"][0]
    seed = instructions.WORKLOADS["seed000"][0]
    # 700000 / 650000 = 1.0769..., 700000 / 3500000 = 0.2
    assert "| 700,000 | 1.08x | 0.2x |" in rows[(pulsar, "fastgrad.Tensor")]
    assert "| 3,500,000 | 5.38x | 1x |" in rows[(pulsar, "autograd")]
    assert "| 650,000 | 1x | 0.186x |" in rows[(pulsar, "numpy")]
    assert "| — | — | — |" in rows[(pulsar, "torch")]
    # no autograd row for seed000: its column is empty there
    assert "| 200,000 | 2x | — |" in rows[(seed, "fastgrad.grad")]
    assert f"- torch on {pulsar}: PyTorch is not installed" in text
    assert "over 300" in text and "made-up" in text


def test_without_valgrind_the_command_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main(["--workloads", "seed000"]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--workloads", "chain"], "unknown workload(s) chain"),
    (["--backends", "numpy,tensorflow"], "unknown backend(s) tensorflow"),
    (["--steps", "0"], "--steps must be positive, got 0"),
])
def test_bad_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        instructions.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_a_real_count_under_callgrind(tmp_path):
    """The whole path once, on the cheapest backend: two children under callgrind (the
    hand-written seed-000 call), their counts parsed, divided and written."""
    out = tmp_path / "instructions.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.instructions", "--workloads", "seed000",
         "--backends", "numpy", "--steps", "50", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    [row] = [line for line in out.read_text().splitlines() if line.startswith("| seed-000")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # some twenty numpy calls on arrays of at most 4 x 3: tens of thousands of
    # instructions (about 93,000 here), nowhere near a million
    assert cells[1] == "numpy" and 20_000 < float(cells[2].replace(",", "")) < 1_000_000
    assert cells[3] == "1x" and cells[4] == "—"       # the floor itself; no autograd row
