"""Per-call cost of partial_fit, for comparing commits side by side.

    python benchmarks/overhead.py [SOURCE_TREE]

Prints microseconds per one-row partial_fit at d=10 and d=50 (on a fitted
estimator, best of 5), then the throughput of mini-batches (b=1000, d=100) as
ratios to EmpiricalCovariance().fit and to X.T @ X on the same array. With
SOURCE_TREE (e.g. ``git worktree add /tmp/old <commit>``) that tree's package is
measured instead of the installed one, so two commits can be compared in one run.
"""

import sys
import timeit
import warnings

import numpy as np
from sklearn.covariance import EmpiricalCovariance

if len(sys.argv) > 1:
    sys.path.insert(0, sys.argv[1])
from sklearn_onlinegauss import OnlineGaussian  # noqa: E402


def main():
    warnings.simplefilter("ignore")
    one_row = []
    for d in (10, 50):
        X = np.random.default_rng(0).normal(size=(200, d))
        est = OnlineGaussian().partial_fit(X)
        x = X[:1]
        est.partial_fit(x)
        runs = timeit.repeat(lambda est=est, x=x: est.partial_fit(x), number=2000, repeat=5)
        one_row.append(min(runs) / 2000 * 1e6)
    X = np.random.default_rng(0).normal(size=(200_000, 100))

    def stream():
        est = OnlineGaussian(batch_size=1000)
        for i in range(0, len(X), 1000):
            est.partial_fit(X[i : i + 1000])

    t = min(timeit.repeat(stream, number=1, repeat=3))
    t_emp = min(timeit.repeat(lambda: EmpiricalCovariance().fit(X), number=1, repeat=3))
    t_gram = min(timeit.repeat(lambda: X.T @ X, number=1, repeat=3))
    print(
        f"one-row partial_fit: {one_row[0]:.1f} us (d=10), {one_row[1]:.1f} us (d=50); "
        f"b=1000, d=100: {t_emp / t:.2f}x EmpiricalCovariance.fit, {t_gram / t:.2f}x X.T @ X"
    )


if __name__ == "__main__":
    main()
