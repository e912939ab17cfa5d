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


def run(*args, env=None, timeout=300):
    """The console script in a subprocess: exit status, stdout, stderr."""
    full_env = dict(os.environ, FASTGRAD_DATA=str(SHARED), FASTGRAD_CACHE="/nonexistent")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "fastgrad", *args], capture_output=True,
                          text=True, env=full_env, cwd=Path(__file__).parent, timeout=timeout)
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


def run_on_a_terminal(*args):
    """The console script with stderr on a pseudo-terminal: exit status, stderr."""
    import fcntl
    import pty
    import struct
    import termios
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = dict(os.environ, FASTGRAD_DATA=str(SHARED), FASTGRAD_CACHE="/nonexistent")
    proc = subprocess.Popen([sys.executable, "-m", "fastgrad", *args], stdout=subprocess.PIPE,
                            stderr=follower, env=env, cwd=Path(__file__).parent)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:                                # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=300)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_text_report_progress_and_seed_reproducibility(tmp_path):
    code, out, err = run("train", "--steps", "200", "--seed", "4")
    assert code == 0, err
    assert "pulsars" in out and "non-pulsars" in out and "wall time" in out
    assert err == ""                   # stderr is not a terminal: no progress bar (tqdm's
    #                                    disable=None), the summary on stdout is kept
    code, tty_err = run_on_a_terminal("train", "--steps", "200", "--seed", "4")
    assert code == 0 and "200/200" in tty_err         # on a terminal: the bar
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
    loaded = nn.load(model)                            # the file alone rebuilds it
    assert loaded.sizes == [8, 25, 10, 2] and loaded.activation == "tanh"
    assert loaded.final_activation is None and loaded.loss == "xent"
    from fastgrad import datasets
    X, y = datasets.load_pulsars(SHARED)
    # raw features: the model applies the training split's statistics itself
    assert np.mean(np.argmax(loaded(X).data, axis=1) == y) > 0.9


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
    (["--momentum", "-1"], "--momentum: must be 0 or more, got -1"),
    (["--momentum", "x"], "--momentum: expected a number"),
    (["--seed", "-1"], "--seed: must be 0 or more, got -1"),
    (["--seed", "1.5"], "--seed: expected an integer"),
    (["--momentum", "0.9", "--optimizer", "adam"], "--momentum is for --optimizer sgd"),
    (["--plot", "/nonexistent/dir/x.png"], "the folder /nonexistent/dir does not exist"),
    (["--plot", "loss.xyz"], "matplotlib cannot write .xyz files; use one of .*png"),
    (["--plot", "/"], "is a folder"),
    (["--save", "/nonexistent/m.npz"], "the folder /nonexistent does not exist"),
])
def test_bad_arguments(args, match):
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    # 10^8 steps: a check that waits for the end of training never comes (timeout)
    code, out, err = run("train", "--steps", "100000000", *args, timeout=60)
    assert code == 2 and "Traceback" not in err and out == ""
    assert len(err.strip().splitlines()) == 1
    import re
    assert re.search(match, err), err


@pytest.mark.parametrize("content,match", [
    (None, "no such file"),
    ("1,2,3\n", "expected 9 columns"),
    ("1,2,3,4,5,6,7,8,1\n1,2,nan,4,5,6,7,8,0\n", "column 3 is nan"),
    (b"\xff\xfe\x00", "not a text file"),
    ("1,2,3,4,5,6,7,8,1\n\n1,2,3,4,5,6,7,8,2\n",
     "line 3: the label (column 9) must be 0 or 1, found 2 (1 rows with another label"),
    ("1,2,3,4,5,6,7,8,1\n\n1,2,inf,4,5,6,7,8,0\n", "line 3: column 3 is inf"),
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


def test_a_failed_write_after_training_comes_after_the_results(monkeypatch, capsys, tmp_path):
    def full(self, path, **extra):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(nn.Module, "save", full)
    code = main(["train", "--data", str(SHARED), "--steps", "20", "--save",
                 str(tmp_path / "m.npz")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "test " in out and "overall" in out and "wall time" in out   # results first
    assert err.strip() == (f"fastgrad train: error: --save {tmp_path / 'm.npz'}: "
                           "No space left on device")


def test_written_files_get_the_mode_of_a_plain_open(tmp_path):
    pytest.importorskip("matplotlib")
    plot, model = tmp_path / "loss.png", tmp_path / "model.npz"
    old = os.umask(0o027)
    try:
        assert main(["train", "--data", str(SHARED), "--steps", "5", "--plot", str(plot),
                     "--save", str(model), "--json"]) == 0
        nn.MLP([2, 2]).save(tmp_path / "module.npz")
    finally:
        os.umask(old)
    for path in (plot, model, tmp_path / "module.npz"):
        assert oct(path.stat().st_mode & 0o777) == oct(0o640), path


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_every_activation_trains_with_the_defaults(activation):
    code, out, err = run("train", "--activation", activation, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["accuracy"]["test"]["overall"] >= 0.90, result["accuracy"]
    if activation == "tanh":                          # the notebook's figures, unchanged
        assert result["lr"] == 0.01
        assert round(result["accuracy"]["test"]["overall"], 4) == 0.9192


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A model trained with --standardize and saved, and a copy of its training data."""
    folder = tmp_path_factory.mktemp("model")
    path = folder / "m.npz"
    code, out, err = run("train", "--standardize", "--optimizer", "adam", "--loss", "xent",
                         "--lr", "0.01", "--steps", "300", "--save", str(path), "--json")
    assert code == 0, err
    return path, json.loads(out)


def test_evaluate_gives_train_s_three_accuracies(saved_model, tmp_path):
    path, trained = saved_model
    # the training run's test split, written out as a CSV: evaluate must agree with train
    from fastgrad import datasets
    X, y = datasets.load_pulsars(SHARED)
    _, X_test, _, y_test = datasets.train_test_split(X, y, 0.2, seed=0)
    data = tmp_path / "test.csv"
    np.savetxt(data, np.c_[X_test, y_test], delimiter=",", fmt="%.17g",
               header=",".join(datasets.PULSAR_FEATURES + ("label",)), comments="")
    code, out, err = run("evaluate", "--model", str(path), "--data", str(data), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["samples"] == 656
    assert result["accuracy"] == trained["accuracy"]["test"]
    code, text, err = run("evaluate", "--model", str(path), "--data", str(data))
    assert code == 0, err
    row = [line.split() for line in text.splitlines() if line.startswith("data ")][0]
    acc = trained["accuracy"]["test"]
    assert row == ["data", f"{acc['pulsars']:.4f}", f"{acc['non_pulsars']:.4f}",
                   f"{acc['overall']:.4f}"]
    assert "pulsars" in text and "non-pulsars" in text and "trained with xent" in text


def test_predict_takes_a_csv_with_or_without_labels(saved_model, tmp_path):
    path, _ = saved_model
    rows = np.loadtxt(SHARED / "pulsars_tuned.csv", delimiter=",", skiprows=1)[:50]
    with_labels, without = tmp_path / "with.csv", tmp_path / "without.csv"
    np.savetxt(with_labels, rows, delimiter=",", fmt="%.17g")
    np.savetxt(without, rows[:, :8], delimiter=",", fmt="%.17g")
    expected = np.argmax(nn.load(path)(rows[:, :8]).data, axis=1).tolist()
    for data in (with_labels, without):
        code, out, err = run("predict", "--model", str(path), "--data", str(data))
        assert code == 0, err
        assert [int(line) for line in out.split()] == expected
        code, out, err = run("predict", "--model", str(path), "--data", str(data), "--json")
        result = json.loads(out)
        assert result["predictions"] == expected and result["samples"] == 50
        assert result["pulsars"] == sum(expected)
    assert np.mean(np.array(expected) == rows[:, 8]) > 0.85   # raw features, scaled inside


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("case,match", [
    ("no-model", "--model {model}: no such file"),
    ("not-a-model", "not an .npz model file"),
    ("old-format", "a model file without its architecture"),
    ("no-data", "--data {data}: no such file"),
    ("bad-data", "--data {data}, line 1: expected"),
    ("wrong-width", "an MLP of sizes 3-4-2 does not take 8 features"),
])
def test_predict_and_evaluate_bad_input(saved_model, tmp_path, command, case, match):
    model, data = saved_model[0], tmp_path / "data.csv"
    np.savetxt(data, np.ones((3, 9)), delimiter=",")
    if case == "no-model":
        model = tmp_path / "missing.npz"
    elif case == "not-a-model":
        model = tmp_path / "text.npz"
        model.write_text("hello\n")
    elif case == "old-format":                # what train --save wrote before the format
        model = tmp_path / "old.npz"
        np.savez(model, **nn.MLP([8, 2], rng=0).state_dict(), __layers__=np.array([8, 2]))
    elif case == "no-data":
        data = tmp_path / "missing.csv"
    elif case == "bad-data":
        data.write_text("1,2,3\n")
    elif case == "wrong-width":
        model = tmp_path / "small.npz"
        nn.MLP([3, 4, 2], rng=0).save(model)
    code, out, err = run(command, "--model", str(model), "--data", str(data))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"fastgrad {command}: error: ")
    assert match.format(model=model, data=data) in err, err


def test_evaluate_needs_the_label_column(saved_model, tmp_path):
    data = tmp_path / "features.csv"
    np.savetxt(data, np.ones((3, 8)), delimiter=",")
    code, out, err = run("evaluate", "--model", str(saved_model[0]), "--data", str(data))
    assert code == 2 and "expected 9 columns (8 features and a label), found 8" in err
