"""What reading a fitted OnlineGaussian costs, next to what the same read costs elsewhere.

    python benchmarks/reads.py

For d = 10, 100, 1000: ``covariance_`` against copying a ``(d, d)`` array
(the floor: the read returns a copy), and a one-row ``score_samples``
against scipy's frozen ``multivariate_normal(mean, cov).logpdf`` on the same
row, as ratios measured in the same run (best of 7 repeats each). Reads
are computed once per learned state, so both stay near their floor.
"""

import timeit

import numpy as np
from scipy.stats import multivariate_normal

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


def main():
    rng = np.random.default_rng(0)
    head = f"{'covariance_':>12s} {'/ copy':>8s} {'score_samples (1 row)':>22s} {'/ scipy':>8s}"
    print(f"{'d':>5s} {head}")
    for d in (10, 100, 1000):
        read, vs_copy, ours, vs_scipy = row_of_figures(d, rng)
        print(f"{d:5d} {read * 1e6:10.1f}us {vs_copy:8.2f} {ours * 1e6:20.1f}us {vs_scipy:8.2f}")


if __name__ == "__main__":
    main()
