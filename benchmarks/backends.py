"""The one registry of the suite's backends: names, libraries, families, display.

Every other module takes its backend names from here: the scalar engines
(``engines``), the tensor steps (``tensor_backends``), the higher-order and replay
workloads (``second_order``), the report's row order, columns and colours (``report``)
and the callgrind counts (``instructions``). A backend is one row of a workload's table:
a library and a way of using it (``jax`` is ``jax.jit``-compiled, ``jax.nojit`` is not;
``torch.func`` and ``torch.double_backward`` are two ways of taking second derivatives
with PyTorch).

Families (what a backend appears in):

``scalar``    the scalar workloads: chain, micrograd's MLP step, memory per node
``tensor``    the first-order array workloads: pulsar step, large MLP steps, seed-000 call
``hessian``   Hessians and Hessian-vector products (issue 12)
``function``  a graph recorded once and replayed (``fastgrad.Function``, issue 14)

This module needs only the standard library at import time (the report and the
callgrind parent import it); ``modules(library)`` imports a library when asked, or raises
``EngineUnavailable`` with the ``pip install`` that fixes it.
"""
import os
from dataclasses import dataclass


class EngineUnavailable(Exception):
    """The backend cannot run here; the message says why and how to fix it."""


class MissingAPI(EngineUnavailable):
    """The installed fastgrad lacks a function a row calls (a feature not merged yet)."""


@dataclass(frozen=True)
class Backend:
    """One backend of the suite.

    Attributes
    ----------
    name : str
        The row's name: the pytest parameter and the ``backend`` of the report's rows.
    library : str
        The distribution whose version and threads the row records (``fastgrad``,
        ``numpy``, ``torch``, ...).
    title : str
        Its column title in the report's ``vs`` and summary columns.
    families : tuple of str
        The families of workloads it has rows in (see the module's docstring).
    color : str
        Its colour in ``ratios.png``.
    counted : bool
        Counted by default by ``python -m benchmarks.instructions``.
    """

    name: str
    library: str
    title: str
    families: tuple
    color: str
    counted: bool = False


_FASTGRAD = "#1f77b4"
#: in display order (the report's row order and the pytest parameters' order)
REGISTRY = (
    Backend("fastgrad", "fastgrad", "fastgrad", ("scalar", "function"), _FASTGRAD),
    Backend("fastgrad.grad", "fastgrad", "fastgrad.grad", ("tensor", "hessian"), _FASTGRAD,
            counted=True),
    Backend("fastgrad.Tensor", "fastgrad", "fastgrad.Tensor", ("tensor",), _FASTGRAD,
            counted=True),
    Backend("fastgrad.Function", "fastgrad", "Function", ("hessian", "function"), "#17becf"),
    Backend("reference", "fastgrad", "reference", ("scalar", "tensor"), "#9467bd"),
    Backend("micrograd", "micrograd", "micrograd", ("scalar", "tensor"), "#8c564b"),
    Backend("autograd", "autograd", "autograd", ("scalar", "tensor", "hessian"), "#ff7f0e",
            counted=True),
    Backend("torch", "torch", "PyTorch", ("scalar", "tensor"), "#d62728", counted=True),
    Backend("torch.func", "torch", "torch.func", ("hessian", "function"), "#e377c2"),
    Backend("torch.double_backward", "torch", "double backward", ("hessian",), "#bcbd22"),
    Backend("jax", "jax", "JAX", ("scalar", "tensor", "hessian", "function"), "#2ca02c"),
    Backend("jax.nojit", "jax", "JAX no jit", ("hessian",), "#98df8a"),
    Backend("casadi", "casadi", "CasADi", ("hessian", "function"), "#aec7e8"),
    Backend("numpy", "numpy", "numpy floor", ("tensor", "function"), "#7f7f7f", counted=True),
    Backend("cfloor", "cfloor", "C by hand", ("function",), "#444444"),
)
BY_NAME = {b.name: b for b in REGISTRY}


def names(family=None):
    """The backends' names in display order; only those of ``family`` if given."""
    return tuple(b.name for b in REGISTRY if family is None or family in b.families)


def pick(*wanted):
    """``wanted`` as a tuple in display order, after checking every name is registered."""
    unknown = [n for n in wanted if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown backend(s) {unknown}; register them in benchmarks/backends.py")
    return tuple(n for n in BY_NAME if n in wanted)


def get(name):
    """The ``Backend`` called ``name``; ``ValueError`` names the registered ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; registered: {', '.join(BY_NAME)}") \
            from None


# ---- importing a library, or the reason it cannot be ------------------------------------------

_INSTALL = {
    "micrograd": "pip install micrograd==0.1.0 (or fastgrad[bench])",
    "autograd": "pip install autograd==1.9.1 (or fastgrad[bench])",
    "torch": "pip install torch==2.13.0 (the CPU build; or fastgrad[bench])",
    "jax": "pip install jax jaxlib",
    "casadi": "pip install casadi",
    "cfloor": "install a C compiler (cc, gcc or clang) or set $CC",
}
_WHAT = {"micrograd": "micrograd", "autograd": "HIPS autograd", "torch": "PyTorch",
         "jax": "JAX", "casadi": "CasADi", "cfloor": "A C compiler"}


def _import(library):
    if library == "fastgrad":
        import fastgrad
        import fastgrad.numpy as fnp
        return fastgrad, fnp
    if library == "numpy":
        import numpy
        return numpy
    if library == "micrograd":
        import micrograd.engine
        return micrograd.engine
    if library == "autograd":
        import autograd
        import autograd.numpy as anp
        return autograd, anp
    if library == "torch":
        import torch
        import torch.func  # noqa: F401
        return torch
    if library == "jax":
        # float64 on (the other backends' float64 rows are float64; float32 rows pass
        # float32 arrays, which stay float32); read when jax is first imported
        os.environ.setdefault("JAX_ENABLE_X64", "1")
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        return jax, jnp
    if library == "casadi":
        import casadi
        return casadi
    if library == "cfloor":                 # chain_floor.c, built now (ImportError: none)
        from . import cfloor
        return cfloor.load()
    raise ValueError(f"unknown library {library!r}")


_CACHE = {}


def modules(library):
    """What ``library`` offers the suite: ``(fastgrad, fastgrad.numpy)``,
    ``(autograd, autograd.numpy)``, ``(jax, jax.numpy)``, or the module itself.

    Raises ``EngineUnavailable`` (with the install command) when it cannot be imported.
    """
    if library not in _CACHE:
        try:
            _CACHE[library] = _import(library)
        except ImportError as exc:
            if library == "fastgrad":
                raise EngineUnavailable(f"fastgrad is not importable: {exc}") from exc
            raise EngineUnavailable(
                f"{_WHAT[library]} is not installed: {_INSTALL[library]} to add it to the "
                f"comparison ({exc})") from exc
        if library == "jax":
            jax, jnp = _CACHE[library]
            if str(jnp.zeros(1, dtype=jnp.float64).dtype) != "float64":
                del _CACHE[library]
                raise EngineUnavailable("JAX is installed but float64 could not be enabled "
                                        "(jax_enable_x64); set JAX_ENABLE_X64=1")
    return _CACHE[library]


def require(name):
    """Raise ``EngineUnavailable`` unless backend ``name``'s library can be imported."""
    modules(get(name).library)


def fastgrad_api(*attributes):
    """The installed fastgrad's ``attributes`` (dotted names allowed, e.g.
    ``"Function.vmap"``), or ``MissingAPI`` naming what is missing: the row that needs
    them is a not-run row until the feature is merged."""
    fastgrad, _ = modules("fastgrad")
    found = []
    for attribute in attributes:
        obj = fastgrad
        for part in attribute.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                raise MissingAPI(
                    f"not in the installed fastgrad {getattr(fastgrad, '__version__', '')}: "
                    f"fastgrad.{attribute} (SPEC.md; the row runs as soon as the feature "
                    "is merged and installed)")
        found.append(obj)
    return found[0] if len(found) == 1 else tuple(found)
