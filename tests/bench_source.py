"""A module of ``benchmarks/`` loaded from its file, for the tests of its arithmetic.

``benchmarks/`` sits beside the package in the source tree, not in the wheel: where it
is missing (tests run against an installed wheel from elsewhere), the calling test
module is skipped. The module is imported from its file as part of a package of a
private name (``fastgrad_bench``, whose ``__path__`` is the folder; its ``__init__`` is
not run), not as ``benchmarks.<name>``: no ``sys.path`` change that could make later
imports of fastgrad find the source tree instead of the installed package, and the
module's relative imports (``from . import backends``) work. Only modules that need
nothing beyond the standard library at import time can be loaded this way.
"""
import importlib
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "fastgrad_bench"


def load(name):
    """``benchmarks/<name>.py`` as a module, or skip the calling test module."""
    folder = ROOT / "benchmarks"
    if not (folder / f"{name}.py").is_file():
        pytest.skip("benchmarks/ is not beside the tests (an installed-package run)",
                    allow_module_level=True)
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE, "benchmarks/, for the tests")
        package.__path__ = [str(folder)]
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{name}")
