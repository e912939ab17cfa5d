"""``import fastgrad`` stays cheap: no optional dependency is imported until used.

The subprocesses run in an empty folder, so they import the installed package, not the
source tree's ``fastgrad/`` (which has no compiled modules).
"""
import subprocess
import sys

OPTIONAL = ("graphviz", "matplotlib", "tqdm", "torch", "autograd", "jax", "scipy",
            "pandas", "urllib.request", "http.client", "zipfile", "tempfile")


def test_import_loads_no_optional_module(tmp_path):
    code = ("import sys, fastgrad; "
            f"print(','.join(m for m in {OPTIONAL!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.strip()
    assert out == "", f"import fastgrad imported: {out}"


def test_features_import_their_dependency_when_used(tmp_path):
    code = ("import sys, fastgrad; from fastgrad import Value; "
            "fastgrad.to_dot(Value(1.0) * 2); "
            "print('graphviz' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert out == ["False", "False"]          # to_dot needs no graphviz
