"""load_pulsars: both layouts, the search order, the download, bad files; splits, scaling."""
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fastgrad import datasets

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TUNED = SHARED / "pulsars_tuned.csv"
FULL = SHARED / "HTRU_2.csv"

needs_data = pytest.mark.skipif(not FULL.is_file() or not TUNED.is_file(),
                                reason="../shared/data is not beside the checkout")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No FASTGRAD_DATA, an empty cache, and no network unless a test says otherwise."""
    monkeypatch.delenv("FASTGRAD_DATA", raising=False)
    monkeypatch.setenv("FASTGRAD_CACHE", str(tmp_path / "cache"))

    def offline(url):
        raise OSError("network disabled in tests")
    monkeypatch.setattr(datasets, "_fetch", offline)


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


@needs_data
def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTGRAD_DATA", str(SHARED))           # a folder
    assert datasets.load_pulsars()[0].shape == (3278, 8)
    monkeypatch.setenv("FASTGRAD_DATA", str(FULL))             # a file
    assert datasets.load_pulsars(balanced=False)[0].shape == (17898, 8)
    monkeypatch.delenv("FASTGRAD_DATA")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "HTRU_2.csv").write_bytes(FULL.read_bytes())
    assert datasets.load_pulsars(balanced=False)[0].shape == (17898, 8)


def test_nothing_found_lists_what_was_tried(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTGRAD_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(datasets.DataNotFoundError) as err:
        datasets.load_pulsars()
    text = str(err.value)
    assert "FASTGRAD_DATA=" in text and "no such file or folder" in text
    assert "cache" in text and "empty" in text
    assert "download https://archive.ics.uci.edu" in text and "network disabled" in text
    with pytest.raises(datasets.DataNotFoundError, match="no such file"):
        datasets.load_pulsars(tmp_path / "missing.csv")


def zipped(payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("HTRU_2.csv", payload)
        archive.writestr("HTRU_2.arff", b"not used")
    return buffer.getvalue()


@needs_data
def test_download_is_verified_and_cached(monkeypatch, tmp_path):
    calls = []

    def fake_fetch(url):
        calls.append(url)
        return zipped(FULL.read_bytes())
    monkeypatch.setattr(datasets, "_fetch", fake_fetch)
    X, y = datasets.load_pulsars(balanced=False)
    assert X.shape == (17898, 8) and calls == [datasets.HTRU2_URL]
    assert (tmp_path / "cache" / "HTRU_2.csv").read_bytes() == FULL.read_bytes()
    datasets.load_pulsars()
    assert len(calls) == 1                                       # the cache served it


def test_download_with_a_wrong_checksum_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "_fetch", lambda url: zipped(b"1,2,3,4,5,6,7,8,0\n"))
    with pytest.raises(datasets.DataNotFoundError, match="SHA-256 .* is not the expected"):
        datasets.load_pulsars()
    assert not (tmp_path / "cache" / "HTRU_2.csv").exists()
    with pytest.raises(datasets.DataError, match="SHA-256"):
        datasets.download_htru2(tmp_path / "cache")


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
    with pytest.raises(datasets.DataNotFoundError, match="damaged archive"):
        datasets.load_pulsars()


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
