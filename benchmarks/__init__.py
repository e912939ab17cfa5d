"""fastgrad's benchmark suite: every workload on every backend, side by side.

Run it with ``pytest benchmarks --benchmark-only --benchmark-json=bench.json`` from the
project's root, then ``python -m benchmarks.report bench.json`` for the tables, the
distilled ``results.json`` and the ``ratios.png`` chart (in ``benchmarks/results/``).
The suite is outside ``testpaths``: a plain ``pytest`` never runs it.

Modules
-------
``backends``         the one registry of backends (names, libraries, families, colours)
                     and their imports, or the reason they are missing
``harness``          interleaved timing of the backends of one workload, cross-checks,
                     campaigns and rows, versions and thread counts
``engines``          the scalar backends (``Value``-like engines, PyTorch 0-d tensors,
                     autograd over Python floats) and the scalar chain
``tiny_mlp``         micrograd's demo MLP step, once for every scalar backend
``tensor_backends``  the tensor workloads: one forward per model shape, one step per
                     kind of backend (functional, tape, hand-written floor)
``second_order``     Hessians, Hessian-vector products and replayed graphs
                     (``fastgrad.Function``): rows that wait for the SPEC API
``rss_probe``        resident memory per node, run in a fresh interpreter
``report``           tables, ``results.json`` and ``ratios.png`` from a benchmark JSON
``instructions``     instructions per step of the tensor workloads under callgrind (the
                     noise-free companion: ``python -m benchmarks.instructions``)

The suite and its tools use the installed fastgrad (``pip install ".[bench]"``), or the
source folder when it was built in place (``pip install -e``): see
``_prefer_installed_fastgrad`` below.
"""
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path


def _prefer_installed_fastgrad():
    """Keep the source folder ``fastgrad/`` from hiding the installed package.

    pytest (for this package) and ``python -m benchmarks...`` put the project's root on
    ``sys.path``, where ``fastgrad/`` holds the Python sources but no compiled modules
    unless it was built in place (``pip install -e``). After ``pip install ".[bench]"``,
    ``import fastgrad`` would find that folder and fail. So, without an in-place build,
    the installed package is imported here, with the root off the path for the moment;
    from then on ``fastgrad`` is that one, whatever pytest adds to the path.
    """
    root = Path(__file__).resolve().parent.parent
    if "fastgrad" in sys.modules or any(
            (root / "fastgrad" / f"_scalar{suffix}").is_file() for suffix in EXTENSION_SUFFIXES):
        return
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != root]
    try:
        import fastgrad  # noqa: F401
    except ImportError:
        pass            # not installed: the rows that need it say so
    finally:
        sys.path[:] = saved


_prefer_installed_fastgrad()
