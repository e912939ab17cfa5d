"""Type information: the stubs of the compiled modules, checked by mypy against the
installed package, and the typed example script run for real.

mypy runs with ``--strict`` except ``--untyped-calls-exclude=fastgrad``: the pure-Python
front ends (``grad``, ``nn``, ``optim``) have no annotations yet, so calling them from
typed code is a "call to untyped function" under ``--strict``; their results are ``Any``.
Everything else in the example (Value, Tensor and the compiled functions) is checked
against ``fastgrad/_scalar.pyi`` and ``fastgrad/_tensor.pyi``.

mypy runs in an empty folder, so it finds fastgrad where Python imports it from (the
installed package, by its ``py.typed``) and never in the checkout. An editable install
made by an import hook is invisible to mypy; then the package's folder goes on MYPYPATH.
"""
import importlib.util
import os
import re
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import fastgrad

EXAMPLE = Path(__file__).parent / "typing" / "example.py"
PACKAGE = Path(fastgrad.__file__).resolve().parent        # the fastgrad being tested

# Each line marked "# E: text" must get a mypy error containing the text, each "# N: text"
# a note; no other line may get an error. The errors prove that mypy reads the stubs:
# with fastgrad untyped (Any), none of them would be reported.
NEGATIVE = '''\
from fastgrad import Tensor, Value, no_grad

v = Value(1.0)
t = Tensor([1.0, 2.0], requires_grad=True)
reveal_type(2 * v ** 2 - v.tanh())  # N: Revealed type is "fastgrad._scalar.Value"
reveal_type(1.5 / t.sum(axis=0))  # N: Revealed type is "fastgrad._tensor.Tensor"
relu = no_grad()(Value.relu)
reveal_type(relu)  # N: def (self: fastgrad._scalar.Value) -> fastgrad._scalar.Value
v.tanh(3)  # E: Too many arguments for "tanh" of "Value"
v + "a"  # E: Unsupported operand types for + ("Value" and "str")
v.data = "1.0"  # E: Incompatible types in assignment
t.grad.sum()  # E: Item "None" of
t.sum(axis="0")  # E: Argument "axis" to "sum" of "Tensor" has incompatible type "str"
'''

NO_MYPY = "mypy is not installed (the test extra installs it: pip install '.[test]')"
MYPY_ARGS = ["--strict", "--untyped-calls-exclude=fastgrad", "--follow-imports=silent",
             "--python-executable", sys.executable, "--no-error-summary"]

# stubtest: what the compiled modules have that is not fastgrad's API
STUBTEST_ALLOWLIST = r"""
fastgrad\._\w+\.__test__
fastgrad\._\w+\.__reduce_cython__
fastgrad\._\w+\.__setstate_cython__
# the table of C functions other compiled modules cimport (Cython makes it)
fastgrad\._\w+\.__pyx_capi__
# reshape(a, shape, *args, **kwargs) takes the extra arguments only to refuse them
fastgrad\._tensor\.reshape
"""

_LINE = re.compile(r"^(?P<file>.*?\.pyi?):(?P<line>\d+): (?P<severity>error|note): "
                   r"(?P<message>.*)$")


def _mypy_path():
    """The package's parent folder, unless it is one of the interpreter's site-packages.

    mypy finds a package in site-packages itself (and refuses those folders in MYPYPATH);
    anywhere else, such as a source tree behind an editable install's import hook, which
    mypy cannot follow, it needs MYPYPATH. mypy runs in a subprocess from a temporary
    folder, so this process's sys.path (pytest's rootdir, the current folder) says nothing
    about what mypy sees.
    """
    root = os.path.normcase(str(PACKAGE.parent))
    paths = sysconfig.get_paths()
    sites = [*site.getsitepackages(), paths["purelib"], paths["platlib"]]
    if site.ENABLE_USER_SITE:
        sites.append(site.getusersitepackages())
    on_site = any(os.path.normcase(os.path.abspath(p)) == root for p in sites)
    return None if on_site else str(PACKAGE.parent)


def _isolate(mp, folder):
    """Run mypy from ``folder``, with MYPYPATH only if needed; returns an empty config."""
    mp.chdir(folder)
    mp.delenv("MYPYPATH", raising=False)
    if _mypy_path():
        mp.setenv("MYPYPATH", _mypy_path())
    config = folder / "mypy.ini"
    config.write_text("[mypy]\n")
    return str(config)


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    """mypy's errors and notes on the example and the negative snippet, by file name."""
    api = pytest.importorskip("mypy.api", reason=NO_MYPY)
    folder = tmp_path_factory.mktemp("mypy")
    negative = folder / "negative.py"
    negative.write_text(NEGATIVE)
    with pytest.MonkeyPatch.context() as mp:
        config = _isolate(mp, folder)
        cache = str(folder / ".mypy_cache")
        stdout, stderr, status = api.run([*MYPY_ARGS, "--config-file", config,
                                          "--cache-dir", cache, str(EXAMPLE), str(negative)])
    assert status in (0, 1) and not stderr, f"mypy failed to run:\n{stderr}{stdout}"
    report = {}
    for line in stdout.splitlines():
        m = _LINE.match(line)
        assert m, f"unexpected mypy output: {line}"
        report.setdefault(Path(m["file"]).name, []).append(
            (int(m["line"]), m["severity"], m["message"]))
    return report


def test_example_type_checks(mypy_report):
    errors = [f"example.py:{n}: {msg}"
              for n, severity, msg in mypy_report.get("example.py", []) if severity == "error"]
    assert not errors, "mypy on tests/typing/example.py:\n" + "\n".join(errors)


def test_type_errors_are_reported(mypy_report):
    found = mypy_report.get("negative.py", [])
    expected = {}
    for number, text in enumerate(NEGATIVE.splitlines(), 1):
        m = re.search(r"# ([EN]): (.*)$", text)
        if m:
            expected[number] = ("error" if m[1] == "E" else "note", m[2])
    for number, (severity, fragment) in expected.items():
        hit = any(n == number and s == severity and fragment in msg for n, s, msg in found)
        assert hit, (f"line {number} ({NEGATIVE.splitlines()[number - 1]!r}): no "
                     f"{severity} containing {fragment!r}; mypy said: {found}")
    unexpected = [(n, msg) for n, s, msg in found if s == "error" and n not in expected]
    assert not unexpected, f"errors on lines that should pass: {unexpected}"


def test_stubs_match_the_compiled_modules(tmp_path):
    """mypy's stubtest: every public name, signature and property of the compiled
    modules is in the stubs, and nothing else is."""
    pytest.importorskip("mypy.stubtest", reason=NO_MYPY)
    allowlist = tmp_path / "allowlist.txt"
    allowlist.write_text(STUBTEST_ALLOWLIST)
    with pytest.MonkeyPatch.context() as mp:
        config = _isolate(mp, tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "mypy.stubtest", "fastgrad._scalar", "fastgrad._tensor",
             "fastgrad._function",
             "--mypy-config-file", config, "--allowlist", str(allowlist)],
            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_type_information():
    """py.typed and the stubs sit next to the compiled modules (package data)."""
    missing = [name for name in ("py.typed", "_scalar.pyi", "_tensor.pyi")
               if not (PACKAGE / name).is_file()]
    assert not missing, f"{PACKAGE} lacks {missing}: add them to the package data"


def _load_example():
    spec = importlib.util.spec_from_file_location("fastgrad_typed_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_runs(capsys):
    example = _load_example()

    out, dw1, dx1 = example.neuron()
    assert (out, dw1, dx1) == pytest.approx((np.sqrt(0.5), 1.0, -1.5))

    w, b, loss = example.fit_line()
    assert (w, b) == pytest.approx((2.0, 1.0), abs=1e-3) and loss < 1e-6

    gx, gw = example.tensor_gradients()
    x, wt = np.arange(6.0).reshape(2, 3) / 6, np.ones((3, 2))
    dz = (1.0 - np.tanh(x @ wt) ** 2) / 2
    np.testing.assert_allclose(gx, dz @ wt.T, rtol=1e-12)
    np.testing.assert_allclose(gw, x.T @ dz, rtol=1e-12)

    value, grads = example.functional_gradients()
    assert value > 0 and [g.shape for g in grads] == [(3, 1), (1,)]

    result = example.train()
    assert result.last_loss < result.first_loss / 10 and result.accuracy > 0.95
    assert fastgrad.is_grad_enabled()               # no_grad restored the mode

    example.main()
    assert "training: Result(" in capsys.readouterr().out
