"""What reading a fitted OnlineGaussian costs, next to what the same read costs elsewhere.

    python benchmarks/reads.py

For d = 10, 100, 1000: ``covariance_`` against copying a ``(d, d)`` array
(the floor: the read returns a copy), and a one-row ``score_samples``
against scipy's frozen ``multivariate_normal(mean, cov).logpdf`` on the same
row, as ratios measured in the same run (best of 7 repeats each). Reads
are computed once per learned state, so both stay near their floor.

Then reads between steps, as a monitoring loop does them: 20 ``partial_fit``
calls of 1000 rows at d = 300 and 1000, alone and each followed by a
``covariance_`` and a one-row ``score_samples``; the steps' time with the
reads over their time alone (1.0: the reads do not slow the steps), and the
reads' time, with the default BLAS threads and with one.
"""

import time
import timeit

import numpy as np
from scipy.stats import multivariate_normal
from threadpoolctl import threadpool_limits

from sklearn_onlinegauss import OnlineGaussian


def best(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def row_of_figures(d, rng):
    X = rng.normal(size=(5 * d, d))
    est = OnlineGaussian().fit(X)
    cov = est.covariance_
    frozen = multivariate_normal(est.location_, cov)
    row = X[:1]
    number = 2000 if d < 1000 else 100
    read = best(lambda: est.covariance_, number)
    copy = best(cov.copy, number)
    ours = best(lambda: est.score_samples(row), number)
    theirs = best(lambda: frozen.logpdf(row), number)
    return read, read / copy, ours, ours / theirs


def monitored_stream(X, batch, read):
    """Seconds spent in the steps and in the reads of one stream of ``X``."""
    est = OnlineGaussian().partial_fit(X[:batch])
    steps = reads = 0.0
    for start in range(batch, len(X), batch):
        begin = time.perf_counter()
        est.partial_fit(X[start : start + batch])
        steps += time.perf_counter() - begin
        if read:
            begin = time.perf_counter()
            est.score_samples(X[:1]), est.covariance_
            reads += time.perf_counter() - begin
    return steps, reads


def reads_between_steps(d, rng, batch=1000, repeat=3):
    """``(steps with reads / steps alone, reads in s)`` for the default threads and one."""
    X = rng.normal(size=(20 * batch, d))
    figures = []
    for threads in (None, 1):
        with threadpool_limits(threads):
            alone = min(monitored_stream(X, batch, False)[0] for _ in range(repeat))
            steps, reads = min(monitored_stream(X, batch, True) for _ in range(repeat))
        figures += [steps / alone, reads]
    return figures


def main():
    rng = np.random.default_rng(0)
    head = f"{'covariance_':>12s} {'/ copy':>8s} {'score_samples (1 row)':>22s} {'/ scipy':>8s}"
    print(f"{'d':>5s} {head}")
    for d in (10, 100, 1000):
        read, vs_copy, ours, vs_scipy = row_of_figures(d, rng)
        print(f"{d:5d} {read * 1e6:10.1f}us {vs_copy:8.2f} {ours * 1e6:20.1f}us {vs_scipy:8.2f}")
    print("\nreads between steps: steps' time with reads / alone, and the reads' time")
    print(f"{'d':>5s} {'default threads':>24s} {'one thread':>24s}")
    for d in (300, 1000):
        slowed, reads, slowed_1, reads_1 = reads_between_steps(d, rng)
        default = f"{slowed:12.2f}x {reads * 1e3:8.0f} ms"
        print(f"{d:5d} {default} {slowed_1:12.2f}x {reads_1 * 1e3:8.0f} ms")


if __name__ == "__main__":
    main()
