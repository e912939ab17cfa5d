"""Shared fixtures and helpers. Tests run against the installed package (see README)."""
import math

import pytest

try:
    import fastgrad
    import fastgrad._scalar  # noqa: F401  (the compiled core)
except ImportError as exc:  # pragma: no cover - a setup problem, not a test failure
    pytest.exit(f"fastgrad is not installed with its compiled core ({exc}); "
                "run the README's test command: pip install '.[test]' && pytest", returncode=4)
import fastgrad.reference


def pytest_report_header(config):
    return f"fastgrad {fastgrad.__version__} from {fastgrad.__file__}"

ENGINES = {"compiled": fastgrad.Value, "reference": fastgrad.reference.Value}


@pytest.fixture(params=sorted(ENGINES), ids=sorted(ENGINES))
def V(request):
    """The Value class of each engine: tests of the shared API run on both."""
    return ENGINES[request.param]


def numeric_grad(f, xs, h=1e-6):
    """Central finite differences of the float function ``f`` at the point ``xs``."""
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        grads.append((f(*up) - f(*down)) / (2 * h))
    return grads


def same_float(a, b, rel=1e-12, abs_=0.0):
    """Equal to ``rel`` (relative), with nan == nan and infinities matched by sign."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def numeric_grads(f, arrays, h=1e-6):
    """Central differences of the scalar function ``f(*arrays)`` w.r.t. every element."""
    import numpy as np
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            up = float(f(*arrays))
            a[i] = old - h
            down = float(f(*arrays))
            a[i] = old
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads
