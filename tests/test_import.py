"""``import fastgrad`` stays cheap: no optional dependency is imported until used.

The subprocesses run in an empty folder, so they import the installed package, not the
source tree's ``fastgrad/`` (which has no compiled modules).
"""
import subprocess
import sys

import os
import shutil
from pathlib import Path

import pytest

OPTIONAL = ("graphviz", "matplotlib", "tqdm", "torch", "autograd", "jax", "scipy", "dask",
            "distributed", "pandas", "urllib.request", "http.client", "zipfile", "tempfile")

# What `import fastgrad` adds to what a bare `import numpy` loads in the same interpreter:
# a site set-up (sitecustomize, .pth hooks) may import any of OPTIONAL before fastgrad.
NEW_OPTIONAL = ("import sys; import numpy; base = set(sys.modules); import fastgrad; "
                f"print(','.join(m for m in {OPTIONAL!r} "
                "if m in sys.modules and m not in base))")


@pytest.mark.parametrize("site_imports", ["", "import tempfile, zipfile"],
                         ids=["plain", "site-imports-tempfile-zipfile"])
def test_import_loads_no_optional_module(tmp_path, site_imports):
    env = None
    if site_imports:                      # an interpreter whose site set-up imports them
        (tmp_path / "sitecustomize.py").write_text(site_imports + "\n")
        env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", NEW_OPTIONAL], capture_output=True,
                         text=True, check=True, cwd=tmp_path, env=env).stdout.strip()
    assert out == "", f"import fastgrad imported: {out}"


SOURCE = Path(__file__).resolve().parents[1]

# The child sees only the copied tree: an editable install's finder (which would map
# fastgrad._scalar to the build in the real checkout) is taken off sys.meta_path.
FROM_SOURCE = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path "
               "if 'editable' not in repr(f)]; import fastgrad")


@pytest.mark.skipif(not (SOURCE / "src_cython").is_dir(), reason="needs the source tree")
def test_import_from_the_source_tree_says_what_is_wrong_and_the_ways_out(tmp_path):
    shutil.copytree(SOURCE / "fastgrad", tmp_path / "fastgrad",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    (tmp_path / "src_cython").mkdir()
    proc = subprocess.run([sys.executable, "-c", FROM_SOURCE], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: fastgrad is being imported from its source tree")
    assert "no compiled modules (fastgrad._scalar, fastgrad._tensor)" in last
    assert "run Python from another directory" in last and "pip install -e ." in last
    assert "ModuleNotFoundError" not in proc.stderr


def test_features_import_their_dependency_when_used(tmp_path):
    code = ("import sys, fastgrad; from fastgrad import Value; "
            "fastgrad.to_dot(Value(1.0) * 2); "
            "print('graphviz' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert out == ["False", "False"]          # to_dot needs no graphviz
