"""The README's Dask example, timed: a maximum-likelihood fit of a small nonlinear model
over simulated observations with ``scipy.optimize.minimize(method="L-BFGS-B",
jac=True)``, on the threaded scheduler, on a ``LocalCluster`` of 2 worker processes, and
(the same code) through a ``Client`` given the cluster's address.

``python -m benchmarks.dask_mle`` (``FASTGRAD_MLE_SAMPLES``, default 1e7; chunks of
``FASTGRAD_MLE_CHUNK``, default 250,000). Prints one line per scheduler: wall time of the
fit, evaluations, time per evaluation, the estimate.
"""
import os
import time

import dask
import dask.array as da
import numpy as np
import scipy.optimize

import fastgrad

TRUTH = np.array([2.0, 0.7, 0.5, np.log(0.1)])        # a, b, c, log sigma


def nll(theta, x, y):
    """-log p(y | x, theta) of one observation, y = a exp(-b x) + c + N(0, e^s), up to a
    constant."""
    a, b, c, s = theta
    r = (y - (a * (-b * x).exp() + c)) * (-s).exp()
    return 0.5 * r * r + s


B = fastgrad.trace(nll, [1.0, 1.0, 0.0, 0.0], 1.0, 1.0).vmap((None, 0, 0))


def simulate(n, chunk, seed=0):
    rng = da.random.default_rng(seed)
    x = rng.uniform(0.0, 5.0, n, chunks=chunk)
    y = TRUTH[0] * da.exp(-TRUTH[1] * x) + TRUTH[2] + rng.normal(0.0, 0.1, n, chunks=chunk)
    return x, y


def fit(x, y):
    return scipy.optimize.minimize(
        lambda theta: B.value_and_grad(theta, x, y, reduce="mean"),
        x0=np.array([1.0, 1.0, 0.0, 0.0]), jac=True, method="L-BFGS-B")


def timed(label, n, chunk):
    x, y = dask.persist(*simulate(n, chunk))          # simulated where the work runs
    t0 = time.perf_counter()
    res = fit(x, y)
    wall = time.perf_counter() - t0
    print(f"{label:28} {wall:7.2f} s  {res.nfev:3d} evaluations  "
          f"{wall / res.nfev * 1e3:7.1f} ms each  theta = {np.round(res.x, 4)}  "
          f"({res.message})", flush=True)
    return res


def main():
    from distributed import Client, LocalCluster
    n = int(float(os.environ.get("FASTGRAD_MLE_SAMPLES", 1e7)))
    chunk = int(float(os.environ.get("FASTGRAD_MLE_CHUNK", 250_000)))
    print(f"{n:,} observations in chunks of {chunk:,}; truth {np.round(TRUTH, 4)}")
    x, y = (np.asarray(a) for a in dask.compute(*simulate(n, chunk)))
    t0 = time.perf_counter()
    res = scipy.optimize.minimize(lambda t: B.value_and_grad(t, x, y, reduce="mean"),
                                  x0=np.array([1.0, 1.0, 0.0, 0.0]), jac=True,
                                  method="L-BFGS-B")
    wall = time.perf_counter() - t0
    print(f"{'numpy, one thread':28} {wall:7.2f} s  {res.nfev:3d} evaluations  "
          f"{wall / res.nfev * 1e3:7.1f} ms each  theta = {np.round(res.x, 4)}", flush=True)
    del x, y
    with dask.config.set(scheduler="threads"):
        timed("dask, threaded scheduler", n, chunk)
    with dask.config.set({"distributed.comm.timeouts.connect": "5s"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address="127.0.0.1:0") as cluster:
            with Client(cluster):
                timed("dask, LocalCluster(2 procs)", n, chunk)
            with Client(cluster.scheduler_address):       # any cluster's address
                timed("dask, Client(address)", n, chunk)


if __name__ == "__main__":
    main()
