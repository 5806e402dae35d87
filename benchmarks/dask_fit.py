"""Parallel fit on a local Dask cluster against the single-process partial_fit loop.

    python benchmarks/dask_fit.py [--rows 4000000] [--features 50] [--workers 2]

Needs the 'dask' extra. The data lives where each fit reads it, as it would on a
cluster: persisted on the workers for the parallel fit, in this process's memory for
the partial_fit loop (the same numbers). The figure is the ratio of the two times in
one run (best of three), and the two results are compared. On a real cluster, pass
the scheduler's address to Client instead (see docs/dask.rst).
"""

import argparse
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss import dask as og_dask


def best_time(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def partial_fit_loop(X, chunk):
    est = OnlineGaussian(batch_size=chunk)
    for i in range(0, len(X), chunk):
        est.partial_fit(X[i : i + chunk])
    return est


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=250_000)
    args = parser.parse_args()
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, Client(cluster) as client:
        shape, chunks = (args.rows, args.features), (args.chunk, args.features)
        dX = client.persist(da.random.default_rng(0).normal(size=shape, chunks=chunks))
        X = dX.compute()
        estimator = OnlineGaussian(batch_size=args.chunk)
        t_dask, est = best_time(lambda: og_dask.fit(estimator, dX))
    t_single, ref = best_time(lambda: partial_fit_loop(X, args.chunk))
    print(
        f"{args.rows} rows x {args.features} features, chunks of {args.chunk}, "
        f"{args.workers} workers (threads)"
    )
    print(f"single-process partial_fit loop: {t_single:7.3f} s")
    print(f"sklearn_onlinegauss.dask.fit:    {t_dask:7.3f} s  ({t_single / t_dask:.2f}x)")
    print("max |difference| of the covariances:", np.abs(est.covariance_ - ref.covariance_).max())


if __name__ == "__main__":
    main()
