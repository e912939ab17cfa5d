"""A module of ``benchmarks/`` loaded from its file, for the tests of its arithmetic.

``benchmarks/`` sits beside the package in the source tree, not in the wheel: where it
is missing (tests run against an installed wheel from elsewhere), the calling test
module is skipped. The module is loaded from its file, not imported as
``benchmarks.<name>``: no ``sys.path`` change that could make later imports of fastgrad
find the source tree instead of the installed package. Only modules that need nothing
beyond the standard library at import time can be loaded this way.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name):
    """``benchmarks/<name>.py`` as a module, or skip the calling test module."""
    source = ROOT / "benchmarks" / f"{name}.py"
    if not source.is_file():
        pytest.skip("benchmarks/ is not beside the tests (an installed-package run)",
                    allow_module_level=True)
    spec = importlib.util.spec_from_file_location(f"fastgrad_bench_{name}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
