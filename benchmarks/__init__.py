"""fastgrad's benchmark suite: every workload on every backend, side by side.

Run it with ``pytest benchmarks --benchmark-only --benchmark-json=bench.json`` from the
project's root, then ``python -m benchmarks.report bench.json`` for the tables, the
distilled ``results.json`` and the ``ratios.png`` chart (in ``benchmarks/results/``).
The suite is outside ``testpaths``: a plain ``pytest`` never runs it.

Modules
-------
``harness``          interleaved timing of the backends of one workload, cross-checks,
                     versions and thread counts
``engines``          the scalar backends (``Value``-like engines, PyTorch 0-d tensors,
                     autograd over Python floats) and the scalar chain
``tiny_mlp``         micrograd's demo MLP step, once for every scalar backend
``tensor_backends``  the tensor workloads and their backends
``rss_probe``        resident memory per node, run in a fresh interpreter
``report``           tables, ``results.json`` and ``ratios.png`` from a benchmark JSON
"""
