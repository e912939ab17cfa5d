"""load_pulsars: both layouts, the search order, the bundled copy, the download, bad
files; splits, scaling."""
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fastgrad import datasets

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TUNED = SHARED / "pulsars_tuned.csv"
FULL = SHARED / "HTRU_2.csv"
HTRU2_SHA256 = "770932f2a324cb5f0b5ef2a33854fa8e4f47b9cd784b9f7fe60903fa63c8c294"

needs_data = pytest.mark.skipif(not FULL.is_file() or not TUNED.is_file(),
                                reason="../shared/data is not beside the checkout")


def bundled_bytes():
    """The bundled file as installed, compressed."""
    return datasets._bundled_file().read_bytes()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No FASTGRAD_DATA, an empty cache, and no network unless a test says otherwise."""
    monkeypatch.delenv("FASTGRAD_DATA", raising=False)
    monkeypatch.setenv("FASTGRAD_CACHE", str(tmp_path / "cache"))

    def offline(url):
        raise OSError("network disabled in tests")
    monkeypatch.setattr(datasets, "_fetch", offline)


def small_csv(path, rows):
    """A valid HTRU_2-layout file of ``rows`` rows (row i: features i, label i % 2)."""
    path.write_text("".join(",".join([str(float(i))] * 8 + [str(i % 2)]) + "\n"
                            for i in range(rows)))
    return path


@needs_data
def test_both_layouts():
    X, y = datasets.load_pulsars(TUNED)
    assert X.shape == (3278, 8) and X.dtype == np.float64 and y.dtype == np.int64
    assert y.sum() == 1639
    X2, y2 = datasets.load_pulsars(FULL, balanced=False)
    assert X2.shape == (17898, 8) and y2.sum() == 1639
    X3, y3 = datasets.load_pulsars(FULL)                       # balanced subset
    assert X3.shape == (3278, 8) and y3.sum() == 1639
    X4, y4 = datasets.load_pulsars(FULL)
    assert np.array_equal(X3, X4)                              # reproducible
    np.testing.assert_array_equal(X3[y3 == 1], X2[y2 == 1])    # every pulsar kept


def test_bundled_copy_is_htru2():
    packed = bundled_bytes()
    assert len(packed) < 800_000
    assert hashlib.sha256(gzip.decompress(packed)).hexdigest() == HTRU2_SHA256
    assert datasets.SHA256[datasets.HTRU2_FILE] == HTRU2_SHA256
    # the header of `gzip -9 -n`: deflate, no name or time stamp, "maximum compression"
    assert packed[:4] == b"\x1f\x8b\x08\x00" and packed[4:8] == b"\0\0\0\0"
    assert packed[8] == 2
    X, y = datasets.load_pulsars(balanced=False)
    assert X.shape == (17898, 8) and X.dtype == np.float64 and y.dtype == np.int64
    assert y.sum() == 1639
    np.testing.assert_array_equal(X[0], [140.5625, 55.68378214, -0.234571412, -0.699648398,
                                         3.199832776, 19.11042633, 7.975531794, 74.24222492])
    Xb, yb = datasets.load_pulsars()                           # balanced: every pulsar
    assert Xb.shape == (3278, 8) and yb.sum() == 1639
    np.testing.assert_array_equal(Xb[yb == 1], X[y == 1])


@needs_data
def test_bundled_copy_is_the_shared_csv_byte_for_byte():
    assert gzip.decompress(bundled_bytes()) == FULL.read_bytes()
    X, y = datasets.load_pulsars()
    Xs, ys = datasets.load_pulsars(FULL)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


@needs_data
def test_tuned_file_is_a_balanced_subset_of_htru2():
    """What the README says of pulsars_tuned.csv and balanced=True on the full set."""
    Xt, yt = datasets.load_pulsars(TUNED)
    X, y = datasets.load_pulsars(FULL, balanced=False)
    rows, j = [], 0
    for row in Xt:                      # its rows appear in HTRU2's order, rounded to 5 d.p.
        while np.max(np.abs(X[j] - row)) > 5.0001e-6:
            j += 1
        rows.append(j)
        j += 1
    rows = np.array(rows)
    np.testing.assert_array_equal(y[rows], yt)
    np.testing.assert_array_equal(rows[yt == 1], np.flatnonzero(y == 1))   # every pulsar
    Xb, yb = datasets.load_pulsars(FULL)
    ours = {tuple(r) for r in Xb[yb == 0]}
    common = sum(tuple(r) in ours for r in X[rows[yt == 0]])
    assert common == 166                # another draw of the 1,639 non-pulsars


def documented_command():
    """The one-line command fastgrad/data/README.md says made the bundle."""
    text = (datasets._bundled_file().parent / "README.md").read_text(encoding="utf-8")
    lines = [l.strip() for l in text.splitlines() if l.strip().startswith("gzip ")]
    assert len(lines) == 1, lines
    return lines[0]


def test_bundle_is_what_the_documented_command_makes():
    command = documented_command()
    assert command == ("gzip -9 -n -c ../shared/data/HTRU_2.csv > "
                       "fastgrad/data/HTRU_2.csv.gz")
    gnu = shutil.which("gzip") and subprocess.run(
        ["gzip", "--version"], capture_output=True, text=True).stdout.startswith("gzip 1.")
    if not gnu or not FULL.is_file():
        pytest.skip("needs GNU gzip and ../shared/data beside the checkout")
    made = subprocess.run(command.split(">")[0].split(), cwd=ROOT, capture_output=True,
                          check=True).stdout
    assert made == bundled_bytes()


def test_search_order(monkeypatch, tmp_path):
    fetched = []
    monkeypatch.setattr(datasets, "_fetch", lambda url: fetched.append(url))
    explicit = small_csv(tmp_path / "explicit.csv", 6)
    env = small_csv(tmp_path / "env.csv", 10)
    cache = tmp_path / "cache"
    cache.mkdir()
    small_csv(cache / "HTRU_2.csv", 4)                      # never used by default
    assert datasets.load_pulsars(balanced=False)[0].shape == (17898, 8)   # the bundle
    monkeypatch.setenv("FASTGRAD_DATA", str(env))           # a file
    assert datasets.load_pulsars(balanced=False)[0].shape == (10, 8)
    assert datasets.load_pulsars(explicit, balanced=False)[0].shape == (6, 8)
    assert datasets.load_pulsars(source="bundled", balanced=False)[0].shape == (17898, 8)
    shutil.copy(env, tmp_path / "HTRU_2.csv")
    monkeypatch.setenv("FASTGRAD_DATA", str(tmp_path))      # a folder
    assert datasets.load_pulsars(balanced=False)[0].shape == (10, 8)
    monkeypatch.setenv("FASTGRAD_DATA", "")                 # empty is unset
    assert datasets.load_pulsars(balanced=False)[0].shape == (17898, 8)
    assert fetched == []                                    # nothing downloaded


@needs_data
def test_fastgrad_data_folder_prefers_the_tuned_file(monkeypatch):
    monkeypatch.setenv("FASTGRAD_DATA", str(SHARED))
    np.testing.assert_array_equal(datasets.load_pulsars()[0], datasets.load_pulsars(TUNED)[0])
    monkeypatch.setenv("FASTGRAD_DATA", str(FULL))
    assert datasets.load_pulsars(balanced=False)[0].shape == (17898, 8)


def test_fastgrad_data_pointing_at_nothing_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTGRAD_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(datasets.DataNotFoundError,
                       match=r"FASTGRAD_DATA=.*nowhere: no such file or folder; .*unset it "
                             r"to use the copy of HTRU2 bundled with fastgrad"):
        datasets.load_pulsars()
    monkeypatch.setenv("FASTGRAD_DATA", str(tmp_path))
    with pytest.raises(datasets.DataNotFoundError,
                       match="the folder holds neither pulsars_tuned.csv nor HTRU_2.csv"):
        datasets.load_pulsars()
    with pytest.raises(datasets.DataNotFoundError, match="no such file"):
        datasets.load_pulsars(tmp_path / "missing.csv")
    with pytest.raises(datasets.DataNotFoundError, match="the folder holds neither"):
        datasets.load_pulsars(tmp_path)


def test_source_is_checked(tmp_path):
    with pytest.raises(ValueError, match="source must be None, 'bundled' or 'download', "
                                         "got 'web'"):
        datasets.load_pulsars(source="web")
    with pytest.raises(ValueError, match="give path or source, not both"):
        datasets.load_pulsars(small_csv(tmp_path / "a.csv", 4), source="bundled")


@pytest.mark.parametrize("damage,error,match", [
    ("flip", datasets.DataError, r"not a readable gzip file \(.+\); reinstall fastgrad"),
    ("truncate", datasets.DataError, r"not a readable gzip file \(.+\); reinstall fastgrad"),
    ("other-csv", datasets.DataError,
     r"SHA-256 [0-9a-f]{64} is not the published 770932f2.* of HTRU_2.csv; the file is "
     r"damaged or was replaced: reinstall fastgrad"),
    ("missing", datasets.DataNotFoundError, r"cannot read it .*; reinstall fastgrad"),
])
def test_corrupted_bundle_is_refused(monkeypatch, tmp_path, capsys, damage, error, match):
    packed = bundled_bytes()
    bad = tmp_path / "HTRU_2.csv.gz"
    if damage == "flip":                                    # one byte in the middle
        middle = len(packed) // 2
        bad.write_bytes(packed[:middle] + bytes([packed[middle] ^ 0xFF]) + packed[middle + 1:])
    elif damage == "truncate":
        bad.write_bytes(packed[:-100])
    elif damage == "other-csv":                             # a valid gzip of edited data
        text = gzip.decompress(packed).replace(b"140.5625,", b"140.5626,", 1)
        bad.write_bytes(gzip.compress(text))
    monkeypatch.setattr(datasets, "_bundled_file", lambda: bad)
    with pytest.raises(error, match=match) as err:
        datasets.load_pulsars()
    assert "bundled with fastgrad" in str(err.value) and str(bad) in str(err.value)
    from fastgrad.cli import main                           # the command: one line, status 2
    assert main(["train"]) == 2
    out, text = capsys.readouterr()
    assert out == "" and len(text.strip().splitlines()) == 1 and re.search(match, text)


# Runs in a fresh interpreter in an empty folder: sockets refused, every file opened whose
# name mentions HTRU recorded (an audit hook), then the given code.
PROBE = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")
socket.socket = socket.create_connection = socket.getaddrinfo = refuse
opened = []
def hook(event, args):
    if event == "open" and "HTRU" in str(args[0]):
        opened.append(str(args[0]))
sys.addaudithook(hook)
"""


def probe(code, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("FASTGRAD_DATA", "FASTGRAD_CACHE", "PYTHONPATH")}
    env["FASTGRAD_CACHE"] = str(tmp_path / "cache")
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-c", PROBE + code], capture_output=True,
                          text=True, cwd=empty, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_fastgrad_does_not_read_the_bundle(tmp_path):
    out = probe("import fastgrad, fastgrad.datasets\n"
                "print(len(opened))\n"
                "fastgrad.datasets.load_pulsars()\n"
                "print(len(opened), opened[-1])\n", tmp_path)
    before, after = out.splitlines()
    assert before == "0"                                    # import reads nothing
    assert after.startswith("1 ") and after.endswith("HTRU_2.csv.gz")   # the hook sees it


def test_main_job_runs_on_the_bundle_offline(tmp_path):
    """`fastgrad train` with no FASTGRAD_DATA, no network, nothing beside: the notebook's
    figures, from the bundled file and no other."""
    out = probe("from fastgrad.cli import main\n"
                "import fastgrad.datasets as d\n"
                "code = main(['train'])\n"
                "print('opened', *opened, sep='\\n')\n"
                "print('bundle', d._bundled_file())\n"
                "sys.exit(code)\n", tmp_path)
    bundle = out.split("bundle ")[-1].strip()
    assert out.split("opened\n")[1].split("bundle ")[0].split() == [bundle]
    assert "2622 training samples, 656 test samples" in out
    rows = dict(re.findall(r"^(train|test) +[0-9.]+ +[0-9.]+ +([0-9.]+)$", out, re.M))
    assert set(rows) == {"train", "test"}, out
    for part, overall in rows.items():
        assert 0.90 <= float(overall) <= 0.92, (part, out)
    assert not (tmp_path / "cache").exists()


def zipped(payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("HTRU_2.csv", payload)
        archive.writestr("HTRU_2.arff", b"not used")
    return buffer.getvalue()


def test_download_only_when_asked_verified_and_cached(monkeypatch, tmp_path):
    calls = []
    csv = gzip.decompress(bundled_bytes())

    def fake_fetch(url):
        calls.append(url)
        return zipped(csv)
    monkeypatch.setattr(datasets, "_fetch", fake_fetch)
    datasets.load_pulsars()
    assert calls == []                                      # not asked: the bundle
    X, y = datasets.load_pulsars(balanced=False, source="download")
    assert X.shape == (17898, 8) and calls == [datasets.HTRU2_URL]
    assert (tmp_path / "cache" / "HTRU_2.csv").read_bytes() == csv
    datasets.load_pulsars(source="download")
    assert len(calls) == 1                                  # the cache served it
    (tmp_path / "cache" / "HTRU_2.csv").write_bytes(csv[:-10])   # a damaged cached copy
    datasets.load_pulsars(source="download")
    assert len(calls) == 2                                  # is replaced by a download
    assert (tmp_path / "cache" / "HTRU_2.csv").read_bytes() == csv


def test_download_with_a_wrong_checksum_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "_fetch", lambda url: zipped(b"1,2,3,4,5,6,7,8,0\n"))
    with pytest.raises(datasets.DataError, match="SHA-256 .* is not the published .*; "
                                                 "the download was not saved"):
        datasets.load_pulsars(source="download")
    assert not (tmp_path / "cache" / "HTRU_2.csv").exists()
    with pytest.raises(datasets.DataError, match="SHA-256"):
        datasets.download_htru2(tmp_path / "cache")


def test_download_without_network_says_so():
    with pytest.raises(datasets.DataNotFoundError,
                       match=r"download of https://archive.ics.uci.edu/\S+ into .*cache "
                             r"failed \(network disabled in tests\), and the cache holds no "
                             r"verified copy"):
        datasets.load_pulsars(source="download")


@pytest.mark.parametrize("content,match", [
    ("1,2,3\n4,5,6\n", r"line 1: expected 9 columns .* found 3"),
    ("a,b,c,d,e,f,g,h,label\n1,2,3,4,5,6,7,8,1\n1,2,3,x,5,6,7,8,0\n", r"line 3: not a number"),
    ("1,2,3,4,5,6,7,8,1\n1,2,nan,4,5,6,7,8,0\n", r"line 2: column 3 is nan"),
    ("1,2,3,4,5,6,7,8,1\n1,2,3,4,5,6,7,8,7\n",
     r"line 2: the label \(column 9\) must be 0 or 1, found 7"),
    ("a,b,c,d,e,f,g,h,label\n", r"no data rows"),
])
def test_malformed_files_are_named(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(datasets.DataError, match=match) as err:
        datasets.load_pulsars(path)
    assert str(path) in str(err.value)


def test_unreadable_file(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(datasets.DataError, match="not a text file"):
        datasets.load_pulsars(path)


def test_train_test_split_is_stratified_and_reproducible():
    X = np.arange(200.0).reshape(100, 2)
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    a = datasets.train_test_split(X, y, 0.25, seed=3)
    b = datasets.train_test_split(X, y, 0.25, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    X_train, X_test, y_train, y_test = a
    assert len(y_test) == 25 and y_test.sum() == 5 and y_train.sum() == 15
    assert sorted(np.r_[X_train[:, 0], X_test[:, 0]]) == list(X[:, 0])
    _, X_none, _, y_none = datasets.train_test_split(X, y, 0.0)
    assert len(X_none) == 0 and len(y_none) == 0
    with pytest.raises(ValueError, match=r"test_fraction must lie in \[0, 1\)"):
        datasets.train_test_split(X, y, 1.0)


def test_standardize_uses_training_statistics_only():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    test = np.array([[2.0, 6.0]])
    s_train, s_test, (mean, std) = datasets.standardize(train, test)
    np.testing.assert_array_equal(s_train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(s_test, [[0.0, 1.0]])          # constant column: std 1
    np.testing.assert_array_equal(mean, [2.0, 5.0])


def test_make_moons():
    X, y = datasets.make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and y.sum() == 51
    upper = X[y == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    X2, _ = datasets.make_moons(101, noise=0.1, seed=0)
    assert not np.allclose(X, X2)


def test_damaged_download(monkeypatch):
    monkeypatch.setattr(datasets, "_fetch", lambda url: b"PK\x03\x04 not really a zip")
    with pytest.raises(datasets.DataError, match="damaged archive"):
        datasets.load_pulsars(source="download")


def test_a_label_other_than_0_or_1_names_the_line_and_the_value(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(",".join(datasets.PULSAR_FEATURES) + ",label\n1,2,3,4,5,6,7,8,0\n\n"
                    "1,2,3,4,5,6,7,8,2\n1,2,3,4,5,6,7,8,-1\n")
    with pytest.raises(datasets.DataError) as info:
        datasets.load_pulsars(path)
    assert str(info.value) == (f"{path}, line 4: the label (column 9) must be 0 or 1, "
                               "found 2 (2 rows with another label in all)")


def test_read_csv_takes_rows_with_or_without_the_label(tmp_path):
    rows = np.arange(18, dtype=float).reshape(2, 9)
    rows[:, 8] = [1, 0]
    path = tmp_path / "with.csv"
    np.savetxt(path, rows, delimiter=",")
    X, y = datasets.read_csv(path)
    np.testing.assert_array_equal(X, rows[:, :8])
    assert y.tolist() == [1, 0] and y.dtype == np.int64
    np.savetxt(path, rows[:, :8], delimiter=",")
    X, y = datasets.read_csv(path)
    assert y is None and X.shape == (2, 8)
    with pytest.raises(datasets.DataError, match="line 1: expected 9 columns"):
        datasets.read_csv(path, labelled=True)
    path.write_text("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,1\n")
    with pytest.raises(datasets.DataError, match="line 2: expected 8 columns, as on line 1"):
        datasets.read_csv(path)
