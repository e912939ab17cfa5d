"""``fastgrad train`` end to end, and its bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastgrad import nn
from fastgrad.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not (SHARED / "pulsars_tuned.csv").is_file(),
                                reason="../shared/data is not beside the checkout")


def run(*args, env=None):
    """The console script in a subprocess: exit status, stdout, stderr."""
    full_env = dict(os.environ, FASTGRAD_DATA=str(SHARED), FASTGRAD_CACHE="/nonexistent")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "fastgrad", *args], capture_output=True,
                          text=True, env=full_env, cwd=Path(__file__).parent, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_defaults_reproduce_the_notebook():
    code, out, err = run("train", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["layers"] == [8, 25, 10, 2] and result["steps"] == 1000
    assert result["samples"] == {"train": 2622, "test": 656}
    for part in ("train", "test"):
        acc = result["accuracy"][part]
        assert acc["overall"] >= 0.88 and set(acc) == {"pulsars", "non_pulsars", "overall"}


def test_text_report_progress_and_seed_reproducibility(tmp_path):
    code, out, err = run("train", "--steps", "200", "--seed", "4")
    assert code == 0, err
    assert "pulsars" in out and "non-pulsars" in out and "wall time" in out
    assert "200/200" in err                            # the progress bar
    code2, out2, _ = run("train", "--steps", "200", "--seed", "4")
    strip = lambda text: [l for l in text.splitlines() if "wall time" not in l]  # noqa: E731
    assert strip(out) == strip(out2)


def test_loss_decreases_and_plot_and_save(tmp_path):
    pytest.importorskip("matplotlib")
    plot, model = tmp_path / "loss.png", tmp_path / "model.npz"
    args = ["train", "--data", str(SHARED), "--standardize", "--optimizer", "adam",
            "--loss", "xent", "--lr", "0.01", "--steps", "300", "--plot", str(plot),
            "--save", str(model)]
    assert main(args + ["--json"]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = nn.MLP([8, 25, 10, 2], activation="tanh")
    extra = loaded.load(model)
    assert set(extra) == {"layers", "mean", "std"}
    from fastgrad import datasets
    X, y = datasets.load_pulsars(SHARED)
    Xs = (X - extra["mean"]) / extra["std"]
    assert np.mean(np.argmax(loaded(Xs).data, axis=1) == y) > 0.9


def test_recommended_setting_reaches_094_on_held_out_data():
    accuracies = []
    for seed in (0, 1, 2):
        code, out, err = run("train", "--standardize", "--optimizer", "adam", "--loss",
                             "xent", "--lr", "0.0005", "--steps", "6000", "--seed", str(seed),
                             "--json")
        assert code == 0, err
        accuracies.append(json.loads(out)["accuracy"]["test"]["overall"])
    assert np.median(accuracies) >= 0.94, accuracies


@pytest.mark.parametrize("args,match", [
    (["--layers", "7,25,2"], "the first size must be 8"),
    (["--layers", "8,25,3"], "the last size must be 2"),
    (["--layers", "8,x,2"], "comma-separated integers"),
    (["--lr", "0"], "must be positive"),
    (["--lr", "-1"], "must be positive"),
    (["--batch", "0"], "must be positive"),
    (["--batch", "100000"], "larger than the 2622 training samples"),
    (["--test-fraction", "1.5"], r"must lie in \[0, 1\)"),
    (["--steps", "10", "--epochs", "2"], "not allowed with argument"),
])
def test_bad_arguments(args, match):
    code, out, err = run("train", *args)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    import re
    assert re.search(match, err), err


@pytest.mark.parametrize("content,match", [
    (None, "no such file"),
    ("1,2,3\n", "expected 9 columns"),
    ("1,2,3,4,5,6,7,8,1\n1,2,nan,4,5,6,7,8,0\n", "column 3 is nan"),
    (b"\xff\xfe\x00", "not a text file"),
])
def test_bad_data_files(tmp_path, content, match):
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = run("train", "--data", str(path))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert match in err and str(path) in err


def test_unwritable_save_leaves_nothing(tmp_path):
    target = tmp_path / "missing-folder" / "model.npz"
    code, out, err = run("train", "--steps", "5", "--save", str(target))
    assert code == 2 and "Traceback" not in err and "--save" in err
    assert not target.parent.exists()


def test_fastgrad_data_pointing_at_nothing_says_so(tmp_path):
    code, out, err = run("train", env={"FASTGRAD_DATA": str(tmp_path / "none")})
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"FASTGRAD_DATA={tmp_path / 'none'}: no such file or folder" in err
    assert "unset it to use the copy of HTRU2 bundled with fastgrad" in err


def test_info_and_version():
    code, out, _ = run("info")
    assert code == 0 and "compiled core" in out
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("fastgrad ")


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, capsys, tmp_path):
    import sys as _sys
    monkeypatch.setitem(_sys.modules, "matplotlib", None)
    code = main(["train", "--data", str(SHARED), "--steps", "5", "--plot",
                 str(tmp_path / "loss.png")])
    err = capsys.readouterr().err
    assert code == 2 and "--plot needs matplotlib: pip install 'fastgrad[plot]'" in err
    assert not (tmp_path / "loss.png").exists()
