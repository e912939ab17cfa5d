"""Data: the HTRU2 pulsar set (``load_pulsars``, ``read_csv``), two moons, splitting, scaling.

Where ``load_pulsars`` looks, in order:

1. ``path``, when given: a CSV file, or a folder holding one; a missing or bad file there
   is an error (nothing else is tried).
2. The ``FASTGRAD_DATA`` environment variable, when set: a CSV file or a folder holding
   one. Set but pointing at nothing usable is an error too (unset it to get step 3).
3. The copy of HTRU2 that ships inside the package (``fastgrad/data/HTRU_2.csv.gz``, the
   exact bytes of ``HTRU_2.csv`` gzip-compressed), checked against the published SHA-256
   before use. It needs no network and nothing beside the installation.

``source="download"`` asks for the file from its public home instead (the UCI Machine
Learning Repository): the copy in the user cache folder (``$FASTGRAD_CACHE``, else
``$XDG_CACHE_HOME/fastgrad``, else ``~/.cache/fastgrad``) when its SHA-256 is the
published one, else a download, checked against the same SHA-256 and saved there. Nothing
is downloaded unless asked for.

HTRU2 is by R. J. Lyon et al., from the UCI Machine Learning Repository
(DOI 10.6084/m9.figshare.3080389.v1), under CC BY 4.0; ``fastgrad/data/README.md``
credits it and says how the bundled file is made.

Two layouts are read, both with 8 feature columns and a 0/1 label last:
``pulsars_tuned.csv`` (3,278 rows, a header line, already class-balanced) and
``HTRU_2.csv`` (17,898 rows, no header; ``balanced=True`` draws a reproducible
class-balanced subset: every pulsar and as many non-pulsars, chosen with a fixed seed).
"""
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["load_pulsars", "read_csv", "train_test_split", "standardize", "make_moons",
           "DataError", "DataNotFoundError", "PULSAR_FEATURES"]

#: Column names of the pulsar features.
PULSAR_FEATURES = ("ip_mean", "ip_std", "ip_kurtosis", "ip_skewness",
                   "dmsnr_mean", "dmsnr_std", "dmsnr_kurtosis", "dmsnr_skewness")

HTRU2_URL = "https://archive.ics.uci.edu/static/public/372/htru2.zip"
HTRU2_FILE = "HTRU_2.csv"
TUNED_FILE = "pulsars_tuned.csv"
#: The bundled copy of HTRU2, in the package's ``data`` folder.
BUNDLED_FILE = HTRU2_FILE + ".gz"
#: Where ``load_pulsars`` can be told to take the data from (``source=``).
SOURCES = ("bundled", "download")
#: SHA-256 of the data files fastgrad knows.
SHA256 = {
    HTRU2_FILE: "770932f2a324cb5f0b5ef2a33854fa8e4f47b9cd784b9f7fe60903fa63c8c294",
    TUNED_FILE: "1402ac275c96bf3b89d6667821fd7b6f33654b1bd8779a6dd9ffef25fc55bfec",
}
BALANCE_SEED = 2019


class DataError(ValueError):
    """A data file exists but cannot be used: unreadable, malformed, wrong columns, NaNs."""


class DataNotFoundError(FileNotFoundError):
    """The data asked for is not there (``path``, ``FASTGRAD_DATA``, the bundled copy) or
    could not be downloaded; the message says which, and what to do."""


def cache_dir():
    """The user cache folder that ``load_pulsars(source="download")`` keeps HTRU2 in.

    Returns
    -------
    Path
        ``$FASTGRAD_CACHE`` if set, else ``$XDG_CACHE_HOME/fastgrad``, else
        ``~/.cache/fastgrad`` (it may not exist yet).
    """
    if os.environ.get("FASTGRAD_CACHE"):
        return Path(os.environ["FASTGRAD_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fastgrad"


def _in_folder(folder, balanced):
    names = [TUNED_FILE, HTRU2_FILE] if balanced else [HTRU2_FILE, TUNED_FILE]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def _read_csv(path, labelled=True, text=None):
    """Rows of numbers from a CSV with 9 columns, with or without a header line.

    ``labelled=None`` also takes 8 columns (features without the label), the same number
    on every line; the label column, when there is one, must hold 0 or 1. ``text`` is the
    file's content when it is already read (``path`` then only names it).
    """
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}: not a text file") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() and not _numeric(lines[0].split(",")[0]):
        start = 1                                   # a header line
    n_features = len(PULSAR_FEATURES)
    widths = (n_features + 1,) if labelled else (n_features + 1, n_features)
    rows, numbers = [], []
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) not in widths or (rows and len(cells) != len(rows[0])):
            expected = (f"{len(rows[0])} columns, as on line {numbers[0]}" if rows else
                        f"{n_features + 1} columns (8 features and a label)" if labelled
                        else f"{n_features} columns (the features) or {n_features + 1} "
                             "(the features and a label)")
            raise DataError(f"{path}, line {number}: expected {expected}, found "
                            f"{len(cells)}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise DataError(f"{path}, line {number}: not a number in "
                            f"{line.strip()[:60]!r}") from None
        numbers.append(number)
    if not rows:
        raise DataError(f"{path}: no data rows")
    data = np.array(rows)
    bad = np.argwhere(~np.isfinite(data))
    if len(bad):
        r, c = bad[0]
        raise DataError(f"{path}, line {numbers[r]}: column {c + 1} is {data[r, c]} "
                        f"({len(bad)} missing or non-finite values in all)")
    if data.shape[1] == n_features + 1:
        wrong = np.flatnonzero(~np.isin(data[:, -1], (0.0, 1.0)))
        if len(wrong):
            r = wrong[0]
            raise DataError(f"{path}, line {numbers[r]}: the label (column {n_features + 1}) "
                            f"must be 0 or 1, found {data[r, -1]:g} ({len(wrong)} rows with "
                            "another label in all)")
    return data


def _numeric(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _balance(X, y):
    """Every positive row and as many negatives, drawn with a fixed seed, in file order."""
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    if len(pos) == len(neg):
        return X, y
    rng = np.random.default_rng(BALANCE_SEED)
    few, many = (pos, neg) if len(pos) < len(neg) else (neg, pos)
    keep = np.sort(np.concatenate([few, rng.choice(many, len(few), replace=False)]))
    return X[keep], y[keep]


def _load(path, balanced, text=None):
    data = _read_csv(path, text=text)
    X, y = data[:, :-1].astype(np.float64), data[:, -1].astype(np.int64)
    if balanced:
        X, y = _balance(X, y)
    return X, y


def read_csv(path, labelled=None):
    """The rows of one pulsar CSV as they are (no balancing): ``(X, y)``.

    Parameters
    ----------
    path : str or Path
        A CSV with the 8 feature columns and, unless ``labelled`` is True, optionally a
        0/1 label column last; a header line is skipped.
    labelled : bool or None, default None
        True: the label column is required; None: either layout.

    Returns
    -------
    X : ndarray of float64, shape (n, 8)
    y : ndarray of int64, shape (n,), or None when the file has no label column

    Raises
    ------
    DataError
        The file cannot be read or is malformed (the message names the line).
    """
    data = _read_csv(path, labelled=labelled)
    if data.shape[1] == len(PULSAR_FEATURES):
        return data, None
    return data[:, :-1].copy(), data[:, -1].astype(np.int64)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _bundled_file():
    """The bundled ``HTRU_2.csv.gz`` (a seam the tests replace)."""
    from importlib import resources  # here, not at the top: `import fastgrad` reads nothing
    return resources.files(__package__) / "data" / BUNDLED_FILE


def _bundled_text():
    """The text of the bundled HTRU2, decompressed and checked against its SHA-256.

    Returns ``(where, text)``, ``where`` naming the file for messages. Raises
    ``DataNotFoundError`` if the installation lacks the file and ``DataError`` if it is
    damaged or is not HTRU2 (a wrong SHA-256).
    """
    import gzip
    import zlib
    bundle = _bundled_file()
    where = f"the copy of HTRU2 bundled with fastgrad ({bundle})"
    reinstall = "reinstall fastgrad (pip install --force-reinstall fastgrad)"
    try:
        packed = bundle.read_bytes()
    except OSError as exc:
        raise DataNotFoundError(f"{where}: cannot read it ({exc.strerror or exc}); "
                                f"{reinstall}, give a path or FASTGRAD_DATA, or use "
                                "source='download'") from None
    try:
        raw = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{where}: not a readable gzip file ({exc}); {reinstall}") from None
    _check_htru2(raw, where, f"the file is damaged or was replaced: {reinstall}")
    return where, raw.decode("utf-8")


def _check_htru2(payload, where, remedy):
    """Raise ``DataError`` (naming ``where`` and ``remedy``) unless ``payload`` is HTRU2."""
    digest = hashlib.sha256(payload).hexdigest()
    if digest != SHA256[HTRU2_FILE]:
        raise DataError(f"{where}: SHA-256 {digest} is not the published "
                        f"{SHA256[HTRU2_FILE]} of {HTRU2_FILE}; {remedy}")


def _fetch(url):
    """The bytes at ``url`` (a seam the tests replace)."""
    import urllib.request          # here, not at the top: `import fastgrad` stays cheap
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def download_htru2(folder=None, url=HTRU2_URL):
    """Download HTRU2, check its SHA-256 and save ``HTRU_2.csv`` in ``folder``.

    ``load_pulsars(source="download")`` calls it when the cache holds no verified copy;
    nothing else downloads.

    Parameters
    ----------
    folder : str or Path, optional
        Where to save the file; the user cache folder (``cache_dir()``) by default.
    url : str, optional
        The UCI Machine Learning Repository's zip archive of HTRU2 by default; a plain
        CSV is taken as it is.

    Returns
    -------
    Path
        The saved ``HTRU_2.csv`` (written to a temporary name first, then renamed).

    Raises
    ------
    DataError
        The download is a damaged archive, holds no ``HTRU_2.csv``, or its SHA-256 is not
        the published one (nothing is saved then).
    OSError
        The download or the write failed (no network, refused, timed out, no space).
    """
    import io
    import zipfile
    folder = Path(folder) if folder is not None else cache_dir()
    payload = _fetch(url)
    if payload[:2] == b"PK":                        # the UCI archive: take the CSV out
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                names = [n for n in archive.namelist() if n.endswith(HTRU2_FILE)]
                if not names:
                    raise DataError(f"{url}: the archive holds no {HTRU2_FILE}")
                payload = archive.read(names[0])
        except zipfile.BadZipFile as exc:
            raise DataError(f"{url}: a damaged archive ({exc})") from None
    _check_htru2(payload, url, "the download was not saved")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / HTRU2_FILE
    tmp = folder / f".{HTRU2_FILE}.part"
    tmp.write_bytes(payload)
    os.replace(tmp, target)
    return target


def load_pulsars(path=None, balanced=True, source=None):
    """The HTRU2 pulsar data as ``(X, y)``: float64 features (n, 8) and int labels (n,).

    Parameters
    ----------
    path : str or Path, optional
        A CSV file or a folder holding ``pulsars_tuned.csv`` or ``HTRU_2.csv``. Without it
        (and without ``source``), ``FASTGRAD_DATA`` and then the copy of HTRU2 bundled with
        fastgrad are used (see the module docstring).
    balanced : bool, default True
        Return as many pulsars as non-pulsars: ``pulsars_tuned.csv`` as it is, or from
        ``HTRU_2.csv`` every pulsar and as many non-pulsars drawn with a fixed seed.
    source : {None, "bundled", "download"}, optional
        ``"bundled"``: the copy inside the package, whatever ``FASTGRAD_DATA`` says.
        ``"download"``: HTRU2 from the UCI Machine Learning Repository, through the user
        cache folder (a cached copy is used when its SHA-256 is the published one; a
        download is checked the same way before it is cached). Not with ``path``.

    Returns
    -------
    X : ndarray of float64, shape (n, 8)
    y : ndarray of int64, shape (n,)
        1 for a pulsar, 0 for a non-pulsar.

    Raises
    ------
    DataError
        A file was found but cannot be used (the message names it and the problem): a
        malformed CSV, a damaged bundle or download (wrong SHA-256).
    DataNotFoundError
        ``path`` or ``FASTGRAD_DATA`` points at nothing usable, or the download failed.
    ValueError
        ``source`` is not one of the above, or is given with ``path``.
    """
    if source is not None and source not in SOURCES:
        raise ValueError(f"load_pulsars: source must be None, 'bundled' or 'download', "
                         f"got {source!r}")
    if path is not None:
        if source is not None:
            raise ValueError(f"load_pulsars: give path or source, not both (path={path!r}, "
                             f"source={source!r})")
        p = Path(path)
        if p.is_dir():
            found = _in_folder(p, balanced)
            if found is None:
                raise DataNotFoundError(f"{p}: the folder holds neither {TUNED_FILE} nor "
                                        f"{HTRU2_FILE}")
            return _load(found, balanced)
        if not p.exists():
            raise DataNotFoundError(f"{p}: no such file")
        return _load(p, balanced)
    if source == "download":
        return _load(_downloaded(), balanced)

    env = os.environ.get("FASTGRAD_DATA")
    if env and source is None:
        p = Path(env)
        found = _in_folder(p, balanced) if p.is_dir() else (p if p.is_file() else None)
        if found is not None:
            return _load(found, balanced)
        problem = (f"the folder holds neither {TUNED_FILE} nor {HTRU2_FILE}" if p.is_dir()
                   else "no such file or folder")
        raise DataNotFoundError(f"FASTGRAD_DATA={env}: {problem}; point it at a CSV file "
                                "or a folder holding one, or unset it to use the copy of "
                                "HTRU2 bundled with fastgrad")
    where, text = _bundled_text()
    return _load(where, balanced, text)


def _downloaded():
    """The cached download of HTRU2 if its SHA-256 is right, else a fresh download."""
    cached = cache_dir() / HTRU2_FILE
    if cached.is_file() and _sha256(cached) == SHA256[HTRU2_FILE]:
        return cached
    try:
        return download_htru2(cached.parent)
    except OSError as exc:                          # no network, refused, timed out
        raise DataNotFoundError(f"download of {HTRU2_URL} into {cached.parent} failed "
                                f"({exc}), and the cache holds no verified copy; without "
                                "source='download' the copy bundled with fastgrad is "
                                "used") from None


def train_test_split(X, y, test_fraction=0.2, seed=0, stratify=True):
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    With ``stratify`` each class keeps its share in both parts. ``test_fraction`` may be 0
    (everything is training data; the test parts are empty).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows, y has {len(y)}")
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must lie in [0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    test, train = [], []
    for idx in groups:
        idx = rng.permutation(idx)
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test)).astype(np.intp)
    return X[train], X[test], y[train], y[test]


def standardize(train, *others):
    """Scale columns to zero mean and unit variance, with statistics of ``train`` only.

    Returns the scaled ``train`` followed by each of ``others`` scaled the same way, then
    ``(mean, std)``. Constant columns are left unscaled (std taken as 1).
    """
    train = np.asarray(train, dtype=np.float64)
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = [(train - mean) / std] + [(np.asarray(o, dtype=np.float64) - mean) / std
                                       for o in others]
    return (*scaled, (mean, std))


def make_moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles: ``X`` (n, 2) float64 and ``y`` (n,) in {0, 1}.

    ``n // 2`` points on the upper moon (label 0), the rest on the lower one (label 1),
    with Gaussian ``noise`` added; shuffled with ``seed``.
    """
    if n < 2:
        raise ValueError(f"make_moons: n must be at least 2, got {n}")
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)],
                        np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]
