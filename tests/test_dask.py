"""Batched Functions over Dask arrays (fastgrad._dask): lazy Dask results equal to the
numpy path bit for bit, on the threaded scheduler and on a real LocalCluster (processes,
TCP on localhost); tree reductions; a worker killed mid-computation; bad input; an
L-BFGS-B maximum-likelihood fit.

The clusters lower ``distributed.comm.timeouts.connect`` (30 s by default): after a worker
dies, a surviving one that needs a result it held keeps trying to connect to it for that
long before the scheduler's recomputation is used.
"""
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastgrad
from fastgrad import trace

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
import fastgrad._dask  # noqa: E402  (imported by the first Dask call; here for its helpers)

CONNECT_TIMEOUT = {"distributed.comm.timeouts.connect": "2s"}


def model(w, x, y):
    z = (w[0] * x[0] + w[1] * x[1] + w[2]).tanh() * w[3].exp()
    return (z - y) ** 2 + (w[0] * x[1]).sin()


def two_outputs(w, x):
    return [w[0] * x.sin() + w[1] ** 2, (w[1] * x).tanh() / (1.0 + w[0] ** 2)]


F = trace(model, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5)
B = F.vmap((None, 0, 0))
RNG = np.random.default_rng(16)
N = 1003                                        # not a multiple of the chunk size
W = RNG.normal(size=4) * 0.5
X = RNG.normal(size=(N, 2))
Y = RNG.normal(size=N)
METHODS = ("call", "value_and_grad", "jacobian", "hessian")


def call(Bf, method, *args, **kw):
    return (Bf if method == "call" else getattr(Bf, method))(*args, **kw)


def as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def assert_same(lazy, expected, chunks=None):
    """The Dask results computed equal the numpy ones bit for bit."""
    lazy, expected = as_tuple(lazy), as_tuple(expected)
    assert len(lazy) == len(expected)
    got = dask.compute(*lazy)
    for d, g, e in zip(lazy, got, expected):
        assert isinstance(d, da.Array) and d.dtype == np.float64
        if chunks is not None:
            assert d.chunks[0] == chunks
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def close_rel(a, b, rel=1e-12):
    np.testing.assert_allclose(a, b, rtol=rel, atol=0)


# ---- results, laziness, the graph -----------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_dask_results_equal_the_numpy_path_bit_for_bit_per_chunk(method):
    dX, dY = da.from_array(X, chunks=(200, 2)), da.from_array(Y, chunks=200)
    kw = {} if method == "call" else {"argnum": 0}
    with dask.config.set(scheduler="threads"):
        lazy = call(B, method, W, dX, dY, **kw)
        assert_same(lazy, call(B, method, W, X, Y, **kw), chunks=(200,) * 5 + (3,))
        # chunk k is the numpy path on chunk k
        first = as_tuple(lazy)[-1].blocks[5].compute()
        np.testing.assert_array_equal(first, as_tuple(call(B, method, W, X[1000:],
                                                           Y[1000:], **kw))[-1])
    # a gradient with respect to a batched argument; a Function of several outputs
    assert_same(B.grad(W, dX, dY, argnum=1), B.grad(W, X, Y, argnum=1))
    G = trace(two_outputs, [0.3, 0.4], 0.2).vmap((None, 0))
    if method != "hessian" and method != "value_and_grad":
        assert_same(call(G, method, W[:2], dY), call(G, method, W[:2], Y))


def test_nothing_is_computed_until_asked():
    from dask.callbacks import Callback
    started = []

    class Count(Callback):
        def _start(self, dsk):
            started.append(len(dsk))
    dX, dY = da.from_array(X, chunks=(100, 2)), da.from_array(Y, chunks=100)
    with Count():
        v, g = B.value_and_grad(W, dX, dY)
        H = B.hessian(W, dX, dY)
        assert started == []
        v.compute()
        assert len(started) == 1
    assert H.shape == (N, 4, 4) and H.chunks == ((100,) * 10 + (3,), (4,), (4,))


def test_the_function_enters_the_graph_once_and_a_chunk_adds_only_small_tasks():
    sizes = {}
    for n_chunks in (4, 8):
        dX = da.from_array(X[:800], chunks=(800 // n_chunks, 2))
        dY = da.from_array(Y[:800], chunks=800 // n_chunks)
        v, g = B.value_and_grad(W, dX, dY)
        graph = {**dict(v.__dask_graph__()), **dict(g.__dask_graph__())}
        fkeys = [k for k in graph if isinstance(k, str) and k.startswith("fastgrad-function")]
        assert fkeys == [fastgrad._dask.function_key(F)]
        assert pickle.loads(pickle.dumps(graph[fkeys[0]])) is not None
        fastgrad_tasks = [k for k in graph if isinstance(k, tuple)
                          and k[0].startswith(("fastgrad-value_and_grad-", "pick-"))]
        sizes[n_chunks] = (len(graph), len(fastgrad_tasks))
        # a chunk's own task is small: it names the Function's key, it does not hold it
        for key in fastgrad_tasks:
            assert len(pickle.dumps(graph[key])) < 2000
    # per chunk: the chunk's task, two picks, the two inputs' chunks
    assert sizes[8][0] - sizes[4][0] == 4 * 5 and sizes[8][1] - sizes[4][1] == 4 * 3
    # computing both results runs each chunk's task once
    calls = []

    def counting(*args):
        calls.append(1)
        return kernel(*args)
    kernel = fastgrad._dask._chunk
    try:
        fastgrad._dask._chunk = counting
        v, g = B.value_and_grad(W, dX, dY)
        dask.compute(v, g)
    finally:
        fastgrad._dask._chunk = kernel
    assert len(calls) == 8
    # equal Functions have equal keys; another program another key
    assert fastgrad._dask.function_key(pickle.loads(pickle.dumps(F))) == \
        fastgrad._dask.function_key(F)
    other = trace(lambda w, x, y: model(w, x, y) * 2.0, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0], 0.5)
    assert fastgrad._dask.function_key(other) != fastgrad._dask.function_key(F)


def test_a_thread_keeps_its_copies_of_the_most_recent_functions_by_program():
    import threading
    fd = fastgrad._dask
    key = fd.function_key(F)
    mine = fd._thread_copy(F, key)
    assert mine is not F and mine.program.arrays["op"].tobytes() == \
        F.program.arrays["op"].tobytes()
    # a Function unpickled anew (a worker, every computation) finds the same copy
    assert fd._thread_copy(pickle.loads(pickle.dumps(F)), key) is mine
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(fd._thread_copy(F, key)))
    t.start()
    t.join()
    assert theirs[0] is not mine                 # another thread, another copy
    for i in range(fd.THREAD_COPIES):            # newer Functions push the oldest out
        G = trace(lambda w, x, y, i=i: model(w, x, y) * (i + 2.0), [0.1, 0.2, 0.3, 0.4],
                  [1.0, 2.0], 0.5)
        fd._thread_copy(G, fd.function_key(G))
    assert len(fd._THREAD.copies) == fd.THREAD_COPIES
    assert fd._thread_copy(F, key) is not mine


def test_a_function_of_ten_thousand_instructions_pickles_to_under_300_kb():
    def chain(x):
        y = x[0]
        for _ in range(3333):
            y = (y * x[1]).tanh() + 0.1
        return y
    G = trace(chain, [0.3, 0.5])
    assert 9_900 <= G.program.n_instructions <= 10_100
    size = len(pickle.dumps(G))
    assert size < 30 * G.program.n_instructions + 2_000        # the figure in the docs
    assert pickle.loads(pickle.dumps(G))([0.2, 0.7]) == G([0.2, 0.7])


# ---- reductions ------------------------------------------------------------------------

@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("method", METHODS)
def test_reductions_equal_np_sum_of_the_per_sample_results(method, reduce):
    dX, dY = da.from_array(X, chunks=(50, 2)), da.from_array(Y, chunks=50)   # 21 chunks
    n = 1 if reduce == "sum" else N
    per_sample = as_tuple(call(B, method, W, X, Y))
    got = as_tuple(call(B, method, W, dX, dY, reduce=reduce))
    assert len(got) == len(per_sample)
    for g, p in zip(got, per_sample):
        assert isinstance(g, float) if p.ndim == 1 else isinstance(g, np.ndarray)
        close_rel(g, np.sum(p, axis=0) / n)
    # deterministic: the same tree every time, whatever the scheduler
    with dask.config.set(scheduler="sync"):
        again = as_tuple(call(B, method, W, dX, dY, reduce=reduce))
    for a, g in zip(again, got):
        np.testing.assert_array_equal(a, g)


def test_a_bad_reduce_names_the_allowed_ones_on_dask_input():
    dX, dY = da.from_array(X, chunks=(100, 2)), da.from_array(Y, chunks=100)
    with pytest.raises(ValueError, match="reduce must be None, 'sum' or 'mean', got 'max'"):
        B.value_and_grad(W, dX, dY, reduce="max")


# ---- chunks and bad input ---------------------------------------------------------------

def test_chunks_along_a_non_batch_axis_are_merged():
    dX = da.from_array(X, chunks=(300, 1))
    assert dX.numblocks == (4, 2)
    v, g = B.value_and_grad(W, dX, da.from_array(Y, chunks=300))
    assert g.chunks == ((300, 300, 300, 103), (4,))
    assert_same((v, g), B.value_and_grad(W, X, Y))


def test_different_chunks_between_batched_arguments_are_aligned():
    dX, dY = da.from_array(X, chunks=(300, 2)), da.from_array(Y, chunks=400)
    assert_same(B.value_and_grad(W, dX, dY), B.value_and_grad(W, X, Y),
                chunks=(300, 100, 200, 200, 100, 103))
    # a numpy batched argument beside a Dask one is chunked like it
    assert_same(B(W, X, dY), B(W, X, Y), chunks=(400, 400, 203))


def test_batch_sizes_that_differ_raise():
    with pytest.raises(ValueError, match="argument 2 has 1000 samples along axis 0, "
                                         "argument 1 has 1003"):
        B(W, da.from_array(X, chunks=(100, 2)), da.from_array(Y[:1000], chunks=100))
    with pytest.raises(ValueError, match="argument 2 has 1002 samples"):
        B(W, da.from_array(X, chunks=(100, 2)), Y[:-1])


def test_empty_chunks_and_an_empty_batch():
    dX = da.from_array(X, chunks=((0, 500, 0, 503, 0), (2,)))
    dY = da.from_array(Y, chunks=((0, 500, 0, 503, 0),))
    for method in METHODS:
        assert_same(call(B, method, W, dX, dY), call(B, method, W, X, Y),
                    chunks=(0, 500, 0, 503, 0))
    close_rel(B(W, dX, dY, reduce="sum"), np.sum(B(W, X, Y)))
    with pytest.raises(ValueError, match="the batch is empty"):
        B(W, da.zeros((0, 2), chunks=1), da.zeros(0, chunks=1))


def test_unknown_chunk_sizes_after_boolean_indexing():
    mask = Y > -0.3
    dX, dY = da.from_array(X, chunks=(250, 2)), da.from_array(Y, chunks=250)
    dm = da.from_array(mask, chunks=250)
    mX, mY = dX[dm], dY[dm]
    assert np.isnan(mY.shape[0])
    v, g = B.value_and_grad(W, mX, mY)
    np.testing.assert_array_equal(v.compute(), B(W, X[mask], Y[mask]))
    np.testing.assert_array_equal(g.compute(), B.grad(W, X[mask], Y[mask]))
    close_rel(B(W, mX, mY, reduce="mean"), np.sum(B(W, X[mask], Y[mask])) / mask.sum())
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        B(W, mX, Y[mask])
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        B(W, dX[da.from_array(mask, chunks=100)], mY)
    # the same number of chunks, but lengths that differ: the numpy path's error
    other = dY[da.from_array(Y > 0.3, chunks=250)]
    with pytest.raises(ValueError, match="samples along axis 0"):
        B(W, mX, other).compute()


def test_integer_dask_arrays_are_promoted_as_numpy_ones():
    Xi = RNG.integers(-3, 4, size=(N, 2))
    Yi = RNG.integers(-3, 4, size=N)
    dX, dY = da.from_array(Xi, chunks=(128, 2)), da.from_array(Yi, chunks=128)
    assert dX.dtype.kind == "i"
    assert_same(B.value_and_grad(W, dX, dY), B.value_and_grad(W, Xi, Yi))
    assert_same(B.value_and_grad(W, dX, dY), B.value_and_grad(W, Xi.astype(float),
                                                              Yi.astype(float)))
    with pytest.raises(TypeError, match="expected real numbers, got an array of complex128"):
        B(W, dX, dY.astype(complex))
    with pytest.raises(TypeError, match="expected real numbers, got an array of bool"):
        B(W, dX, dY > 0)


def test_shared_arguments_stay_numpy_and_other_bad_input():
    dX, dY = da.from_array(X, chunks=(100, 2)), da.from_array(Y, chunks=100)
    with pytest.raises(TypeError, match=r"argument 0 is shared \(in_axes\[0\] is None\) "
                                        r"but is a Dask array"):
        B(da.from_array(W, chunks=2), dX, dY)
    with pytest.raises(TypeError, match="batched Functions take Dask arrays"):
        B(W, dask.delayed(X), dY)
    with pytest.raises(ValueError, match=r"argument 1 must have shape \(N, 2\), got \(1003, 3\)"):
        B(W, da.from_array(np.ones((N, 3)), chunks=100), dY)
    with pytest.raises(ValueError, match=r"argument 2 must have shape \(N,\)"):
        B(W, dX, dX)
    with pytest.raises(ValueError, match="expected 4 items, got 3"):
        B(W[:3], dX, dY)
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        B(W, dX)
    with pytest.raises(ValueError, match="argnum=3 is out of range"):
        B.grad(W, dX, dY, argnum=3)
    nested = trace(lambda p: p[0][0] * p[1][0], [[1.0], [2.0]]).vmap((0,))
    with pytest.raises(ValueError, match="nested list"):
        nested(da.ones((5, 2), chunks=2))


def test_import_fastgrad_imports_no_dask_and_numpy_calls_stay_off_it(tmp_path):
    code = ("import sys, numpy as np, fastgrad\n"
            "B = fastgrad.trace(lambda a, x: a * x.sin(), 1.0, 0.5).vmap((None, 0))\n"
            "B.value_and_grad(2.0, np.ones(3), reduce='sum'); B.hessian(2.0, np.ones(3))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.strip()
    assert out == "[]"


def test_the_distributed_path_without_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)      # as if not installed
    with pytest.raises(ImportError, match=r'pip install "fastgrad\[dask\]"'):
        fastgrad.function.dask_client()


# ---- a real LocalCluster: processes, TCP on localhost ---------------------------------

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with dask.config.set(CONNECT_TIMEOUT):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      protocol="tcp", host="127.0.0.1",
                                      dashboard_address="127.0.0.1:0") as lc:
            yield lc


def test_on_a_local_cluster_and_at_its_address_the_results_are_the_same(cluster):
    from distributed import Client
    dX, dY = da.from_array(X, chunks=(150, 2)), da.from_array(Y, chunks=150)
    expected = {m: call(B, m, W, X, Y) for m in METHODS}
    reduced = B.value_and_grad(W, dX, dY, reduce="mean")
    with dask.config.set(CONNECT_TIMEOUT):
        with Client(cluster) as client:
            assert client.scheduler_info()["workers"].__len__() == 2
            for m in METHODS:
                assert_same(call(B, m, W, dX, dY), expected[m])
            on_cluster = B.value_and_grad(W, dX, dY, reduce="mean")
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with pytest.raises(TypeError, match="LocalCluster arguments"):
            fastgrad.function.dask_client(cluster.scheduler_address, n_workers=2)
        with fastgrad.function.dask_client(cluster.scheduler_address) as client:
            assert isinstance(client, Client)
            assert_same(B.value_and_grad(W, dX, dY), expected["value_and_grad"])
            at_address = B.value_and_grad(W, dX, dY, reduce="mean")
    for a, b, c in zip(reduced, on_cluster, at_address):        # the same tree everywhere
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_worker_killed_mid_computation_changes_nothing():
    distributed = pytest.importorskip("distributed")

    def chain(w, x, y):                 # ~600 instructions: ~10 ms a chunk of 3000
        z = x
        for k in range(150):
            z = (z * w[0] + w[1] * k).tanh()
        return (z - y) ** 2
    G = trace(chain, [0.5, 0.01], 0.3, 0.1).vmap((None, 0, 0))
    n, c = 180_000, 3000                # 60 chunks
    rng = np.random.default_rng(5)
    Xs, Ys = rng.normal(size=n), rng.normal(size=n)
    P = np.array([0.9, 0.002])
    # the numpy path chunk by chunk (a sample's results do not depend on its batch)
    parts = [G.value_and_grad(P, Xs[j:j + c], Ys[j:j + c]) for j in range(0, n, c)]
    expected = [np.concatenate([p[k] for p in parts]) for k in (0, 1)]
    dX, dY = da.from_array(Xs, chunks=c), da.from_array(Ys, chunks=c)
    with dask.config.set(CONNECT_TIMEOUT):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      protocol="tcp", host="127.0.0.1",
                                      dashboard_address="127.0.0.1:0") as lc, \
                distributed.Client(lc) as client:
            v, g = G.value_and_grad(P, dX, dY)
            futures = client.compute([v, g])
            victim = sorted(client.scheduler_info()["workers"])[0]
            pid = client.run(os.getpid, workers=[victim])[victim]
            deadline = time.monotonic() + 20
            while True:                 # until the victim holds finished chunks
                held = [k for k in client.has_what().get(victim, ()) if str(k).startswith(
                    ("('fastgrad-", "('pick-"))]     # chunks' results (not the Function)
                if len(held) >= 3 or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            assert len(held) >= 3 and not all(f.done() for f in futures)
            os.kill(pid, signal.SIGKILL)
            got_v, got_g = client.gather(futures)
            assert victim not in client.scheduler_info()["workers"]   # it did die
    np.testing.assert_array_equal(got_v, expected[0])
    np.testing.assert_array_equal(got_g, expected[1])


# ---- an optimiser over the whole data set ----------------------------------------------

def negative_log_likelihood(theta, x, y):
    """One observation of y = a exp(-b x) + c + noise, noise ~ N(0, exp(s)^2)."""
    a, b, c, s = theta
    r = (y - (a * (-b * x).exp() + c)) * (-s).exp()
    return 0.5 * r * r + s


def test_lbfgsb_over_dask_chunks_converges_to_the_known_parameters():
    optimize = pytest.importorskip("scipy.optimize")
    truth = np.array([2.0, 0.7, 0.5, np.log(0.1)])
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.uniform(0.0, 5.0, n)
    y = truth[0] * np.exp(-truth[1] * x) + truth[2] + rng.normal(0.0, 0.1, n)
    nll = trace(negative_log_likelihood, [1.0, 1.0, 0.0, 0.0], 1.0, 1.0).vmap((None, 0, 0))
    def fun(theta, xs, ys):             # the mean negative log-likelihood and its gradient
        return nll.value_and_grad(theta, xs, ys, reduce="mean")
    fits = {}
    for name, (xs, ys) in {"numpy": (x, y), "dask": (da.from_array(x, chunks=500),
                                                     da.from_array(y, chunks=500))}.items():
        fits[name] = optimize.minimize(fun, np.array([1.0, 1.0, 0.0, 0.0]), args=(xs, ys),
                                       jac=True, method="L-BFGS-B")
    for res in fits.values():
        assert res.success, res.message
    np.testing.assert_allclose(fits["dask"].x, fits["numpy"].x, rtol=1e-6, atol=1e-8)
    assert np.all(np.abs(fits["dask"].x - truth) < [0.03, 0.03, 0.01, 0.03])
