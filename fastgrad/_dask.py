"""Batched Functions over Dask arrays: every call of ``BatchedFunction`` on Dask input.

Imported only when a Dask collection reaches a ``BatchedFunction`` (``import fastgrad``
never imports dask; ``fastgrad.function._any_dask`` looks at the arguments' types and at
``sys.modules`` only). Needs ``pip install "fastgrad[dask]"`` (``dask[array]`` and
``distributed``).

The graph
---------
``B.value_and_grad(P, X, Y)`` with ``X``, ``Y`` Dask arrays chunked along axis 0 builds,
without computing anything:

* one key holding the Function (``dask.delayed(function)``, named by a hash of its
  program), and one holding the shared arguments: each enters the graph once, whatever
  the number of chunks, and travels to each worker once per computation (a scattered
  future would tie the graph to one client and break it under the threaded scheduler);
* per chunk, one task running the numpy path (``BatchedFunction._per_sample``) on that
  chunk, which returns a tuple of per-sample arrays, and one small task per result
  picking it out (``blockwise``): the results are Dask arrays chunked like the batched
  arguments; chunk ``k`` is bit for bit the numpy path on chunk ``k``;
* with ``reduce="sum"``/``"mean"``, the per-chunk task returns the chunk's sums and its
  sample count instead, combined ``SPLIT_EVERY`` at a time in a fixed tree; the result
  is computed (``dask.compute``, on the current scheduler) and returned as ndarrays. The
  tree depends only on the chunks, so a recomputed chunk (a worker lost) changes nothing.

Each thread (a worker's, or one of the threaded scheduler's pool) replays its own copy
of the Function, kept by key between computations (``_thread_copy``): a Program's work
space stays warm, and memory is the work space of a chunk per thread and Function (the
``THREAD_COPIES`` most recent), about 16 bytes per instruction and sample.

A Function pickles to about 29 bytes per instruction (``op`` 1, ``dst a b`` 4 each, ``k``
and ``expect`` 8 each) plus its constants and guards' text: 290,790 bytes for a
10,000-instruction one.

Inputs
------
* Batched arguments: Dask arrays, or numpy arrays beside them (turned into Dask arrays
  chunked like the first Dask one). Chunks along a non-batch axis (the columns of an
  ``(N, m)`` argument) are merged (``rechunk({1: -1})``): a sample's numbers are never
  split. Dask arrays of different chunks along axis 0 are aligned by ``blockwise`` (the
  results are chunked by the common refinement).
* Unknown chunk sizes (``nan``, after boolean indexing ``X[mask]``) work when every
  batched argument has the same number of chunks; a chunk whose arguments then differ in
  length raises the numpy path's ``ValueError`` when computed. Otherwise (chunks to align
  that are unknown) a ``ValueError`` says to call ``compute_chunk_sizes()``.
* Empty chunks give empty results (a sum of zero); an empty batch raises as in numpy.
* Integer arrays are promoted to float64, as numpy ones are.
* Shared arguments (``in_axes`` None) stay numpy: a Dask array there raises
  ``TypeError`` (it would be computed whole and sent to every chunk; compute it first).
"""
import hashlib
import math
import threading

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.base import tokenize
except ImportError as exc:                  # pragma: no cover (a Dask array implies dask)
    raise ImportError(f'fastgrad: batched Functions on Dask arrays need dask: pip install '
                      f'"fastgrad[dask]" ({exc})') from None

from .function import BatchedFunction, Function, _flatten, _is_flat, _shape

__all__ = ["batched", "client", "function_key", "SPLIT_EVERY"]

#: how many chunks' partial sums one task of a reduction adds
SPLIT_EVERY = 8


# --------------------------------------------------------------------------------------
# The Function in the graph: one key
# --------------------------------------------------------------------------------------

def function_key(function):
    """The graph key of ``function``: ``"fastgrad-function-"`` and a hash of its program
    (computed once; equal Functions get equal keys)."""
    key = function.__dict__.get("_dask_key")
    if key is None:
        state = function._state()
        program = state.pop("program")
        h = hashlib.sha256(repr(sorted(state.items())).encode())
        for name in sorted(program):
            v = program[name]
            if isinstance(v, np.ndarray):
                h.update(f"{name} {v.dtype.str} {v.shape}".encode())
                h.update(np.ascontiguousarray(v).tobytes())
            elif isinstance(v, dict):
                h.update(repr((name, sorted(v.items()))).encode())
            else:
                h.update(repr((name, v)).encode())
        key = function._dask_key = "fastgrad-function-" + h.hexdigest()[:32]
    return key


# --------------------------------------------------------------------------------------
# The tasks (run on the workers)
# --------------------------------------------------------------------------------------

def _tails(function, method, argnum):
    """The shapes after the batch axis of ``method``'s results."""
    out = () if function._scalar_out else (function._n_out,)
    if method == "call":
        return (out,)
    shape = _shape(function._in_specs[argnum])
    if method == "value_and_grad":
        return ((), shape)
    if method == "jacobian":
        return (out + shape,)
    return (shape + shape,)                                   # hessian


_THREAD = threading.local()
#: how many Functions' copies a thread keeps (each with a chunk's work space)
THREAD_COPIES = 2


def _thread_copy(function, key):
    """This thread's copy of ``function`` (whose graph key is ``key``).

    A Program keeps its sweeps' work space (a chunk's worth) between calls, for one
    caller at a time: a second thread calling it meanwhile would allocate and fault in
    fresh memory every chunk, and so would a worker process that unpickles the Function
    anew for every computation (an optimiser's every evaluation). The copies are kept by
    key (a hash of the program), the ``THREAD_COPIES`` most recent per thread, so they
    outlive one computation, and memory stays a few chunks per thread.
    """
    copies = getattr(_THREAD, "copies", None)
    if copies is None:
        copies = _THREAD.copies = {}
    copy = copies.pop(key, None)
    if copy is None:
        copy = Function._from_state(function._state())
        while len(copies) >= THREAD_COPIES:
            copies.pop(next(iter(copies)))          # the least recently used
    copies[key] = copy                              # now the most recent
    return copy


def _chunk(function, plan, shared, *blocks):
    """The per-sample results of one chunk: the numpy path on it (a tuple of arrays)."""
    in_axes, method, argnum, key = plan
    if all(len(b) == 0 for b in blocks):                     # an empty chunk
        return tuple(np.zeros((0,) + t) for t in _tails(function, method, argnum))
    args, it_shared, it_blocks = [], iter(shared), iter(blocks)
    for ax in in_axes:
        args.append(next(it_shared) if ax is None else next(it_blocks))
    return BatchedFunction(_thread_copy(function, key), in_axes)._per_sample(
        method, tuple(args), argnum)


def _chunk_sums(function, plan, shared, *blocks):
    """``(samples, sums)`` of one chunk: its count and the sum of each result."""
    res = _chunk(function, plan, shared, *blocks)
    return len(res[0]), tuple(np.sum(r, axis=0) for r in res)


def _combine(*parts):
    n, sums = parts[0]
    for m, s in parts[1:]:
        n, sums = n + m, tuple(a + b for a, b in zip(sums, s))
    return n, sums


def _finish(part, reduce):
    n, sums = part
    if reduce == "mean":
        if n == 0:
            raise ValueError("vmap: the batch is empty (0 samples): no mean")
        sums = tuple(s / n for s in sums)
    return tuple(float(s) if np.ndim(s) == 0 else s for s in sums)


def _pick(results, k):
    return results[k]


# --------------------------------------------------------------------------------------
# Building the graph
# --------------------------------------------------------------------------------------

def _has_nan(chunks):
    return any(isinstance(c, float) and math.isnan(c) for c in chunks)


def _same_chunks(a, b):
    return len(a) == len(b) and all(x == y or (_has_nan((x,)) and _has_nan((y,)))
                                    for x, y in zip(a, b))


def _is_dask(a):
    return type(a).__module__.split(".")[0] == "dask"


def _check_batched(i, a, spec):
    """The checks of ``BatchedFunction._batch`` on one batched argument's dtype and
    shape, made when the graph is built (not on a worker)."""
    if spec is not None and not _is_flat(spec):
        raise ValueError(f"vmap: argument {i} is a Dask array, but the Function's argument "
                         f"{i} is a nested list: pass Dask arrays for arguments that are "
                         "one Value (shape (N,)) or a flat list of Values (shape (N, m))")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"argument {i}: expected real numbers, got an array of {a.dtype}")
    if spec is None and a.ndim != 1:
        raise ValueError(f"vmap: argument {i} must have shape (N,), got {a.shape}")
    if spec is not None and (a.ndim != 2 or a.shape[1] != len(spec)):
        raise ValueError(f"vmap: argument {i} must have shape (N, {len(spec)}), got "
                         f"{a.shape}")


def batched(B, method, args, argnum, reduce):
    """``B.<method>(*args, argnum=argnum, reduce=reduce)`` where an argument is a Dask
    collection (``method``: ``"call"``, ``"value_and_grad"``, ``"jacobian"``,
    ``"hessian"``; ``argnum`` and ``reduce`` already checked)."""
    F = B.function
    if len(args) != F.n_args:
        raise TypeError(f"this Function takes {F.n_args} arguments, got {len(args)}")
    shared, batch = [], []
    for i, (a, ax, spec) in enumerate(zip(args, B.in_axes, F._in_specs)):
        if _is_dask(a) and not isinstance(a, da.Array):
            raise TypeError(f"argument {i} is a {type(a).__module__}.{type(a).__name__}: "
                            "batched Functions take Dask arrays (dask.array.Array)")
        if ax is None:
            if _is_dask(a):
                raise TypeError(
                    f"argument {i} is shared (in_axes[{i}] is None) but is a Dask array: "
                    f"shared arguments stay numpy (every chunk gets a copy); compute it "
                    f"first (np.asarray(x)), or batch it (in_axes[{i}] = 0)")
            _flatten(a, spec, f"argument {i}", [])           # bad input raises here
            shared.append(a)
        else:
            batch.append((i, a, spec))
    ref = next(a for _, a, _ in batch if _is_dask(a))       # a batched Dask array
    arrays, lengths = [], []
    for i, a, spec in batch:
        if not _is_dask(a):
            a = np.asarray(a)
        _check_batched(i, a, spec)
        lengths.append((i, a.shape[0]))
        arrays.append((i, a))
    known = [(i, n) for i, n in lengths if not math.isnan(n)]
    for i, n in known[1:]:
        if n != known[0][1]:
            raise ValueError(f"vmap: argument {i} has {n} samples along axis 0, argument "
                             f"{known[0][0]} has {known[0][1]}")
    if known and known[0][1] == 0:
        raise ValueError("vmap: the batch is empty (0 samples)")
    rows = ref.chunks[0]
    unknown = _has_nan(rows) or any(_is_dask(a) and _has_nan(a.chunks[0]) for _, a in arrays)
    blocks = []
    for i, a in arrays:
        if not _is_dask(a):
            if unknown:
                raise ValueError(f"vmap: argument {i} is a numpy array, and the Dask "
                                 f"arrays beside it have chunks of unknown size (nan): "
                                 f"call compute_chunk_sizes() on them, or pass argument "
                                 f"{i} as a Dask array chunked like them")
            a = da.from_array(a, chunks=(rows,) + a.shape[1:])
        elif unknown and not _same_chunks(a.chunks[0], rows):
            raise ValueError(f"vmap: argument {i} and argument {batch[0][0]} have different "
                             f"chunks along the batch axis, some of unknown size (nan, as "
                             f"after boolean indexing): call compute_chunk_sizes() on them")
        if a.ndim == 2 and a.numblocks[1] > 1:               # a sample is never split
            a = a.rechunk({1: -1})
        blocks += [a, "ij"[:a.ndim]]
    fn = dask.delayed(F, name=function_key(F), traverse=False, pure=True)
    sh = dask.delayed(tuple(shared), name="fastgrad-shared-" + tokenize(tuple(shared)),
                      traverse=False, pure=True)
    plan = (B.in_axes, method, argnum, fn.key)
    kernel = _chunk if reduce is None else _chunk_sums
    packed = da.blockwise(kernel, "i", fn, None, plan, None, sh, None, *blocks,
                          concatenate=True, dtype=object, meta=np.empty((0,), object),
                          name=f"fastgrad-{method}-" + tokenize(fn.key, plan, sh.key,
                                                                 reduce, *blocks))
    if reduce is None:
        outs = []
        for k, tail in enumerate(_tails(F, method, argnum)):
            ind = "i" + "abcdef"[:len(tail)]
            outs.append(da.blockwise(_pick, ind, packed, "i", k, None,
                                     new_axes=dict(zip(ind[1:], tail)), dtype=np.float64,
                                     meta=np.empty((0,) * len(ind))))
    else:
        parts = packed.to_delayed().ravel().tolist()
        combine = dask.delayed(_combine, pure=True)
        while len(parts) > 1:
            parts = [combine(*parts[j:j + SPLIT_EVERY])
                     for j in range(0, len(parts), SPLIT_EVERY)]
        outs = dask.compute(dask.delayed(_finish, pure=True)(parts[0], reduce))[0]
    return tuple(outs) if method == "value_and_grad" else outs[0]


# --------------------------------------------------------------------------------------
# distributed
# --------------------------------------------------------------------------------------

def client(address=None, **cluster_kwargs):
    """See ``fastgrad.function.dask_client``."""
    try:
        import distributed
    except ImportError:
        raise ImportError('fastgrad.dask_client needs the distributed package: pip install '
                          '"fastgrad[dask]"') from None
    if address is not None:
        if cluster_kwargs:
            raise TypeError(f"dask_client: LocalCluster arguments "
                            f"({', '.join(sorted(cluster_kwargs))}) with an address: the "
                            f"cluster at {address!r} exists already")
        return distributed.Client(address)
    kwargs = dict(processes=True, threads_per_worker=1)
    kwargs.update(cluster_kwargs)
    return distributed.Client(**kwargs)
